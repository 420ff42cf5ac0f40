package dev.lowbit.bench.memory;

import com.google.gson.GsonBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The result of {@code lowbit memory}: per model, each optimizer's state bytes, computed and (for
 * models up to {@code measureLimit} parameters) measured.
 *
 * @param measureLimit models with more parameters are computed only
 * @param models one entry per model
 */
public record MemoryReport(long measureLimit, List<ModelMemory> models) {

  /** Copies the list. */
  public MemoryReport {
    models = List.copyOf(models);
  }

  /**
   * Computes (and where possible measures) every optimizer's state for every model.
   *
   * @param models the models
   * @param optimizers the optimizers' formulas
   * @param measurer measures real state
   * @param measureLimit measure only models with at most this many parameters
   * @return the report
   * @throws IllegalArgumentException naming the model if its parameters or an optimizer's state
   *     bytes exceed {@code Long.MAX_VALUE} (a {@link ShapeFile} refuses such a file, naming the
   *     line)
   */
  public static MemoryReport of(
      List<ModelShapes> models,
      List<? extends StateFormula> optimizers,
      StateMeasurer measurer,
      long measureLimit) {
    List<ModelMemory> out = new ArrayList<>();
    for (ModelShapes model : models) {
      long parameters;
      try {
        parameters = model.parameters();
      } catch (ArithmeticException e) {
        throw new IllegalArgumentException(
            model.name() + ": the parameter count exceeds " + Long.MAX_VALUE);
      }
      List<MemoryRow> rows = new ArrayList<>();
      for (StateFormula optimizer : optimizers) {
        long computed;
        try {
          computed = optimizer.bytes(model);
        } catch (ArithmeticException e) {
          throw new IllegalArgumentException(
              model.name() + ": " + optimizer.name() + " state bytes exceed " + Long.MAX_VALUE);
        }
        Long measured = null;
        if (parameters <= measureLimit) {
          var m = measurer.measure(optimizer.name(), model);
          measured = m.isPresent() ? m.getAsLong() : null;
        }
        rows.add(MemoryRow.of(optimizer.name(), parameters, computed, measured));
      }
      out.add(
          new ModelMemory(model.name(), model.source(), parameters, model.tensors().size(), rows));
    }
    return new MemoryReport(measureLimit, out);
  }

  /**
   * The report as text: one table per model.
   *
   * @return the text
   */
  public String toTable() {
    StringBuilder out = new StringBuilder();
    for (ModelMemory model : models) {
      long fp32 =
          model.rows().stream()
              .filter(r -> r.optimizer().equals("adamw32"))
              .mapToLong(MemoryRow::computedBytes)
              .findFirst()
              .orElse(0);
      out.append(
          String.format(
              Locale.ROOT,
              "%s: %,d parameters in %d tensors%s%n",
              model.model(),
              model.parameters(),
              model.tensors(),
              model.parameters() > measureLimit
                  ? String.format(Locale.ROOT, " (computed only: over --measure-limit %,d)",
                      measureLimit)
                  : ""));
      out.append("  ").append(model.source()).append('\n');
      out.append(
          String.format(
              Locale.ROOT,
              "  %-22s %14s %14s %9s %11s %10s%n",
              "optimizer",
              "computed MiB",
              "measured MiB",
              "diff %",
              "bytes/param",
              "vs adamw32"));
      for (MemoryRow r : model.rows()) {
        out.append(
            String.format(
                Locale.ROOT,
                "  %-22s %14s %14s %9s %11.3f %10s%n",
                r.optimizer(),
                mib(r.computedBytes()),
                r.measuredBytes() == null ? "-" : mib(r.measuredBytes()),
                r.differencePercent() == null
                    ? "-"
                    : String.format(Locale.ROOT, "%+.3f", r.differencePercent()),
                r.bytesPerParameter(),
                fp32 == 0
                    ? "-"
                    : String.format(Locale.ROOT, "%.2fx", (double) r.computedBytes() / fp32)));
      }
      out.append('\n');
    }
    return out.toString();
  }

  private static String mib(long bytes) {
    return String.format(Locale.ROOT, "%,.1f", bytes / (1024.0 * 1024.0));
  }

  /**
   * The report as one JSON object (exact byte counts; {@code measuredBytes} is null when not
   * measured).
   *
   * @return pretty-printed JSON
   */
  public String toJson() {
    return new GsonBuilder()
        .disableHtmlEscaping()
        .setPrettyPrinting()
        .serializeNulls()
        .create()
        .toJson(this);
  }
}
