package dev.lowbit.bench.speed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.kernels.Kernels;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code lowbit speed}'s report (JSON and table with ratios), its state names, and the workloads it
 * times.
 */
class SpeedReportTest {

  private final SpeedReport report =
      new SpeedReport(
          4096,
          List.of(
              new SpeedReport.Result(StateKind.FP32, Implementation.SIMD, 1, 1.0),
              new SpeedReport.Result(StateKind.BIT8, Implementation.SIMD, 1, 0.5),
              new SpeedReport.Result(StateKind.BIT8, Implementation.SIMD, 2, 0.25),
              new SpeedReport.Result(StateKind.BIT8, Implementation.SCALAR, 1, 4.0)),
          0.125,
          "simd-512");

  @Test
  void jsonHasExactlyTheDocumentedShape() {
    assertEquals(
        "{\"params\":4096,\"results\":["
            + "{\"optimizer\":\"adamw\",\"state\":\"fp32\",\"impl\":\"simd\",\"threads\":1,"
            + "\"nsPerParam\":1.0},"
            + "{\"optimizer\":\"adamw\",\"state\":\"8bit\",\"impl\":\"simd\",\"threads\":1,"
            + "\"nsPerParam\":0.5},"
            + "{\"optimizer\":\"adamw\",\"state\":\"8bit\",\"impl\":\"simd\",\"threads\":2,"
            + "\"nsPerParam\":0.25},"
            + "{\"optimizer\":\"adamw\",\"state\":\"8bit\",\"impl\":\"scalar\",\"threads\":1,"
            + "\"nsPerParam\":4.0}"
            + "],\"copyNsPerFloat\":0.125}",
        report.toJson());
  }

  @Test
  void textShowsTheRatios() {
    String text = report.toText();
    // 8-bit SIMD 1 thread: 0.5x the fp32 step, 8x the scalar; 2 threads: 2x one thread.
    assertTrue(
        text.contains("8bit             simd         1       0.500    0.50x      8.00x          -"),
        text);
    assertTrue(
        text.contains("8bit             simd         2       0.250        -          -      2.00x"),
        text);
  }

  @Test
  void stateNamesParseFromLabelsAndJmhParameters() {
    assertEquals(StateKind.BIT4_FACTORIZED, StateKind.parse("4BIT_FACTORIZED"));
    assertEquals(StateKind.BIT4_FACTORIZED, StateKind.parse("4bit-factorized"));
    assertEquals(StateKind.BIT8, StateKind.parse("8BIT"));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> StateKind.parse("2bit"));
    assertTrue(e.getMessage().contains("'2bit'"), e.getMessage());
  }

  @Test
  void everyWorkloadStepsWithTheScalarKernels() {
    for (KernelWorkload.Optimizer optimizer : KernelWorkload.Optimizer.values()) {
      for (StateKind state : StateKind.values()) {
        for (boolean nativeMemory : new boolean[] {false, true}) {
          KernelWorkload closed;
          try (KernelWorkload w = KernelWorkload.create(optimizer, state, 4096 + 2, nativeMemory)) {
            closed = w;
            assertEquals(4098, w.size());
            assertEquals(nativeMemory, w.gradient().isNative());
            // Gradients are 1e-2 times a standard Gaussian.
            float max = 0;
            for (float g : w.gradient().toArray(ValueLayout.JAVA_FLOAT)) {
              max = Math.max(max, Math.abs(g));
            }
            assertTrue(max > 1e-3 && max < 0.1, "largest |gradient| " + max);
            w.step(Kernels.scalar(), 2);
            assertEquals(-1, Kernels.scalar().firstNonFinite(w.gradient(), w.size()));
          }
          if (nativeMemory) { // closing freed the native memory
            assertThrows(
                IllegalStateException.class,
                () -> closed.gradient().get(ValueLayout.JAVA_FLOAT, 0));
          }
        }
      }
    }
  }

  @Test
  void theSquarestMatrixViewIsUsedForRankOneStates() {
    assertEquals(64, KernelWorkload.rowsOf(4096));
    assertEquals(6, KernelWorkload.rowsOf(4098)); // 4098 = 6 x 683
    assertEquals(1, KernelWorkload.rowsOf(4099));
  }

  @Test
  void theFp32RatioDividesByTheFp32Time() {
    SpeedReport slowFp32 =
        new SpeedReport(
            4096,
            List.of(
                new SpeedReport.Result(StateKind.FP32, Implementation.SCALAR, 1, 2.0),
                new SpeedReport.Result(StateKind.BIT4, Implementation.SCALAR, 1, 0.5)),
            0.125,
            "scalar");
    String text = slowFp32.toText();
    assertTrue(
        text.contains("4bit             scalar       1       0.500    0.25x          -          -"),
        text);
    assertTrue(
        text.startsWith("AdamW step, 4,096 parameters (heap segments); active kernels: scalar\n"
            + "copy baseline: 0.125 ns/float"),
        text);
  }
}
