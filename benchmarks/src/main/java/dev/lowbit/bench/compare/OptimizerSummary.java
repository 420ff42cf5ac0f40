package dev.lowbit.bench.compare;

import java.util.ArrayList;
import java.util.List;

/**
 * One row of the comparison: an optimizer's results over all seeds. Spreads are the sample
 * standard deviation (divisor n - 1; 0 for a single seed). Loss and accuracy are over the seeds
 * whose training completed; they are NaN when none did ({@code null} in the JSON report).
 *
 * @param optimizer the optimizer's name
 * @param description what it is
 * @param stateBytesSource how the state bytes were measured
 * @param parameters trainable parameters of the model
 * @param stateBytes optimizer-state bytes (the same for every seed; the first seed's value)
 * @param bytesPerParameter {@code stateBytes / parameters}
 * @param finalTrainLossMean mean over seeds of the last epoch's training loss
 * @param finalTrainLossStd its standard deviation
 * @param testAccuracyMean mean over seeds of the final test accuracy, in percent
 * @param testAccuracyStd its standard deviation, in percentage points
 * @param testAccuracyPerEpoch mean over seeds of the test accuracy after each epoch, in percent
 * @param medianStepMillis mean over seeds of the median training-step time
 * @param medianUpdateMillis mean over seeds of the median optimizer-update time
 * @param seeds how many seeds were run
 * @param completedSeeds how many of them completed (the others diverged)
 * @param failures why the other seeds stopped, one entry per failed seed
 */
public record OptimizerSummary(
    String optimizer,
    String description,
    String stateBytesSource,
    long parameters,
    long stateBytes,
    double bytesPerParameter,
    double finalTrainLossMean,
    double finalTrainLossStd,
    double testAccuracyMean,
    double testAccuracyStd,
    List<Double> testAccuracyPerEpoch,
    double medianStepMillis,
    double medianUpdateMillis,
    int seeds,
    int completedSeeds,
    List<String> failures) {

  /** Copies the lists. */
  public OptimizerSummary {
    testAccuracyPerEpoch = List.copyOf(testAccuracyPerEpoch);
    failures = List.copyOf(failures);
  }

  /**
   * Summarizes the runs of one optimizer.
   *
   * @param candidate the optimizer
   * @param runs its runs, one per seed, at least one
   * @return the summary
   */
  public static OptimizerSummary of(Candidate candidate, List<RunResult> runs) {
    RunResult first = runs.getFirst();
    List<RunResult> done = runs.stream().filter(RunResult::completed).toList();
    double[] loss = done.stream().mapToDouble(RunResult::finalTrainLoss).toArray();
    double[] accuracy = done.stream().mapToDouble(r -> 100 * r.finalTestAccuracy()).toArray();
    List<Double> perEpoch = new ArrayList<>();
    if (!done.isEmpty()) {
      for (int e = 0; e < done.getFirst().testAccuracyPerEpoch().size(); e++) {
        int epoch = e;
        perEpoch.add(
            100 * done.stream().mapToDouble(r -> r.testAccuracyPerEpoch().get(epoch)).average()
                .orElseThrow());
      }
    }
    List<String> failures = new ArrayList<>();
    for (RunResult r : runs) {
      if (!r.completed()) {
        failures.add("seed " + r.seed() + ": " + r.failure());
      }
    }
    return new OptimizerSummary(
        candidate.name(),
        candidate.description(),
        candidate.stateBytesSource(),
        first.parameters(),
        first.stateBytes(),
        (double) first.stateBytes() / first.parameters(),
        mean(loss),
        std(loss),
        mean(accuracy),
        std(accuracy),
        perEpoch,
        runs.stream().mapToDouble(RunResult::medianStepMillis).average().orElseThrow(),
        runs.stream().mapToDouble(RunResult::medianUpdateMillis).average().orElseThrow(),
        runs.size(),
        done.size(),
        failures);
  }

  static double mean(double[] values) {
    if (values.length == 0) {
      return Double.NaN;
    }
    double sum = 0;
    for (double v : values) {
      sum += v;
    }
    return sum / values.length;
  }

  static double std(double[] values) {
    if (values.length < 2) {
      return 0;
    }
    double m = mean(values);
    double squares = 0;
    for (double v : values) {
      squares += (v - m) * (v - m);
    }
    return Math.sqrt(squares / (values.length - 1));
  }
}
