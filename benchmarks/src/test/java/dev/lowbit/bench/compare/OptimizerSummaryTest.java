package dev.lowbit.bench.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Mean, sample standard deviation, and how diverged seeds are reported. */
class OptimizerSummaryTest {

  private static final Candidate CANDIDATE =
      new Candidate("x", "test", 1e-3, lr -> null, o -> 0, "none", true);

  private static RunResult run(int seed, double accuracy, String failure) {
    return new RunResult(
        "x", seed, 100, 800, List.of(0.5, 0.25), List.of(0.5, accuracy), 10, 2.0, 1.0, failure);
  }

  @Test
  void meanAndSampleStandardDeviationOverSeeds() {
    OptimizerSummary s =
        OptimizerSummary.of(
            CANDIDATE, List.of(run(1, 0.80, null), run(2, 0.82, null), run(3, 0.84, null)));
    assertEquals(82.0, s.testAccuracyMean(), 1e-9);
    assertEquals(2.0, s.testAccuracyStd(), 1e-9); // divisor n - 1
    assertEquals(List.of(50.0, 82.0), s.testAccuracyPerEpoch().stream()
        .map(a -> Math.round(a * 1e9) / 1e9).toList());
    assertEquals(8.0, s.bytesPerParameter());
    assertEquals(3, s.completedSeeds());
  }

  @Test
  void divergedSeedsAreCountedAndLeftOutOfTheMean() {
    OptimizerSummary s =
        OptimizerSummary.of(
            CANDIDATE, List.of(run(1, 0.80, null), run(2, 0.10, "diverged at step 7")));
    assertEquals(80.0, s.testAccuracyMean(), 1e-9);
    assertEquals(1, s.completedSeeds());
    assertEquals(List.of("seed 2: diverged at step 7"), s.failures());
    CompareReport report =
        new CompareReport(
            new CompareSettings("d", 1, 1, "mlp", 100, 2, 1, 10, List.of(1, 2), List.of("x=0.001")),
            List.of(s));
    assertTrue(report.toTable().contains("80.00 +- 0.00 (1 of 2 seeds)"), report.toTable());
  }

  @Test
  void allSeedsDivergedShowsDiverged() {
    OptimizerSummary s = OptimizerSummary.of(CANDIDATE, List.of(run(1, 0.1, "diverged")));
    assertTrue(Double.isNaN(s.testAccuracyMean()));
    CompareReport report =
        new CompareReport(
            new CompareSettings("d", 1, 1, "mlp", 100, 2, 1, 10, List.of(1), List.of("x=0.001")),
            List.of(s));
    assertTrue(report.toTable().contains("diverged"), report.toTable());
    // No loss either: a dash.
    String row = report.toTable().lines().toList().get(2);
    assertEquals(List.of("x", "800", "8.000", "-", "diverged", "2.00", "1.00"),
        List.of(row.strip().split("\\s+")));
  }

  @Test
  void theSampleStandardDeviationDividesByNMinusOne() {
    assertEquals(0.0, OptimizerSummary.std(new double[] {5}));
    assertEquals(Math.sqrt(2), OptimizerSummary.std(new double[] {1, 3}), 1e-12);
    assertEquals(2.0, OptimizerSummary.std(new double[] {2, 4, 6}), 1e-12);
  }

  @Test
  void allSeedsDivergedIsValidJsonWithNulls() {
    OptimizerSummary s = OptimizerSummary.of(CANDIDATE, List.of(run(1, 0.1, "diverged")));
    CompareReport report =
        new CompareReport(
            new CompareSettings("d", 1, 1, "mlp", 100, 2, 1, 10, List.of(1), List.of("x=0.001")),
            List.of(s));
    String json = report.toJson();
    assertFalse(json.contains("NaN"), json);
    // Gson escapes '=' and '\'' by default (for HTML pages): readable JSON keeps them.
    assertTrue(json.contains("\"x=0.001\""), json);
    JsonObject row =
        JsonParser.parseString(json).getAsJsonObject().getAsJsonArray("optimizers").get(0)
            .getAsJsonObject();
    assertTrue(row.get("testAccuracyMean").isJsonNull(), json);
    assertTrue(row.get("finalTrainLossMean").isJsonNull(), json);
    assertEquals(8.0, row.get("bytesPerParameter").getAsDouble());
  }
}
