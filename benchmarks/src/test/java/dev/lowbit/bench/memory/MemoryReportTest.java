package dev.lowbit.bench.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/**
 * {@link MemoryReport}'s figures with a stand-in measurer, so that a measured size can differ
 * from the computed one by a known amount, and with the optimizers in any order.
 */
class MemoryReportTest {

  /** 4096 x 256 = 2^20 parameters: 8 MiB of float32 AdamW state. */
  private static final ModelShapes MODEL =
      new ModelShapes(
          "m", "a test model", List.of(new TensorShape("w", new long[] {4096, 256})));

  private static StateFormula formula(String name) {
    return StateFormula.all().stream().filter(f -> f.name().equals(name)).findFirst().orElseThrow();
  }

  @Test
  void aMeasuredSizeAboveTheFormulaShowsItsDifferenceInPercent() {
    long computed = 8L << 20;
    MemoryReport report =
        MemoryReport.of(
            List.of(MODEL),
            List.of(formula("adamw32")),
            (optimizer, model) -> OptionalLong.of(computed + computed / 128),
            1L << 20);
    MemoryRow row = report.models().getFirst().rows().getFirst();
    assertEquals(computed, row.computedBytes());
    assertEquals(computed + computed / 128, row.measuredBytes());
    assertEquals(100.0 / 128, row.differencePercent()); // 0.78125 %
    assertEquals(8.0, row.bytesPerParameter());
    assertTrue(
        report.toTable().contains(
            "\n  adamw32                           8.0            8.1    +0.781       8.000"
                + "      1.00x\n"),
        report.toTable());
  }

  @Test
  void anOptimizerTheMeasurerCannotMeasureShowsADash() {
    MemoryReport report =
        MemoryReport.of(
            List.of(MODEL), List.of(formula("adamw32")), (o, m) -> OptionalLong.empty(), 1L << 20);
    MemoryRow row = report.models().getFirst().rows().getFirst();
    assertNull(row.measuredBytes());
    assertNull(row.differencePercent());
    assertTrue(
        report.toTable().contains(
            "\n  adamw32                           8.0              -         -       8.000"
                + "      1.00x\n"),
        report.toTable());
  }

  @Test
  void theRatioIsToAdamW32WhereverItIsListedAndADashWithoutIt() {
    MemoryReport report =
        MemoryReport.of(
            List.of(MODEL),
            List.of(formula("adamw8bit"), formula("adamw32")),
            (o, m) -> OptionalLong.empty(),
            0);
    // 8-bit: 2 (n + 4 n / 256) bytes = 2.03125 MiB, 0.25x of float32.
    assertTrue(
        report.toTable().contains(
            "\n  adamw8bit                         2.0              -         -       2.031"
                + "      0.25x\n"),
        report.toTable());
    report =
        MemoryReport.of(
            List.of(MODEL), List.of(formula("adamw8bit")), (o, m) -> OptionalLong.empty(), 0);
    assertTrue(
        report.toTable().contains(
            "\n  adamw8bit                         2.0              -         -       2.031"
                + "          -\n"),
        report.toTable());
  }
}
