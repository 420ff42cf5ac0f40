package dev.lowbit.bench.compare;

import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The optimizers {@code lowbit compare} knows, by their stable names, in the order the table shows
 * them.
 */
public final class OptimizerCatalog {

  private final Map<String, Candidate> byName = new LinkedHashMap<>();

  private OptimizerCatalog() {}

  /**
   * Every optimizer available in this build.
   *
   * @return the catalog
   */
  public static OptimizerCatalog standard() {
    OptimizerCatalog catalog = new OptimizerCatalog();
    catalog.add(
        new Candidate(
            "djl-adam",
            "DJL's built-in Adam (float32 m and v as NDArrays)",
            1e-3,
            lr -> Optimizer.adam().optLearningRateTracker(Tracker.fixed((float) lr)).build(),
            DjlStateBytes::of,
            "bytes of its m and v NDArrays",
            true));
    LowBitCandidates.addTo(catalog);
    return catalog;
  }

  void add(Candidate candidate) {
    byName.put(candidate.name(), candidate);
  }

  /**
   * The names, in table order.
   *
   * @return the names
   */
  public List<String> names() {
    return Collections.unmodifiableList(new ArrayList<>(byName.keySet()));
  }

  /**
   * The names run when none are chosen, in table order.
   *
   * @return the default names
   */
  public List<String> defaultNames() {
    return byName.values().stream().filter(Candidate::inDefaultRun).map(Candidate::name).toList();
  }

  /**
   * Looks up optimizers by name.
   *
   * @param names the names, in the order to run them
   * @return the candidates
   * @throws IllegalArgumentException if no name is given, a name is unknown (naming it and
   *     listing the known ones) or listed twice
   */
  public List<Candidate> select(List<String> names) {
    if (names.isEmpty()) {
      // "--optimizers ,," splits into no names: refused here, not as a run with nothing to show
      throw new IllegalArgumentException(
          "--optimizers: no optimizer named; available: " + String.join(", ", byName.keySet()));
    }
    List<Candidate> chosen = new ArrayList<>();
    for (String name : names) {
      Candidate c = byName.get(name.trim());
      if (c == null) {
        throw new IllegalArgumentException(
            "--optimizers: unknown optimizer '" + name.trim() + "'; available: "
                + String.join(", ", byName.keySet()));
      }
      if (chosen.contains(c)) {
        throw new IllegalArgumentException("--optimizers: '" + c.name() + "' is listed twice");
      }
      chosen.add(c);
    }
    return chosen;
  }
}
