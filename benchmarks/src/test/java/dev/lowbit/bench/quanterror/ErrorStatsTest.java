package dev.lowbit.bench.quanterror;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class ErrorStatsTest {

  @Test
  void figuresOnAHandComputedExample() {
    ErrorStats stats = new ErrorStats();
    stats.add(new float[] {3f, 0f, -2f}, new float[] {3f, 0.5f, 0f});
    stats.add(new float[] {4f}, new float[] {5f});
    // errors 0, 0.5, 2, 1; Σe² = 5.25; Σx² = 9 + 4 + 16 = 29
    assertEquals(Math.sqrt(5.25 / 29), stats.relL2(), 1e-12);
    // relative errors over x ≠ 0: 0, 1 (-2 -> 0), 0.25
    assertEquals(1.0, stats.maxRel(), 0);
    // one of three non-zero values decoded to 0
    assertEquals(1.0 / 3, stats.zeroed(), 1e-12);
  }

  @Test
  void emptyAndAllZeroInputsGiveZeros() {
    ErrorStats stats = new ErrorStats();
    stats.add(new float[] {0f, 0f}, new float[] {0f, 0f});
    assertEquals(0, stats.relL2());
    assertEquals(0, stats.maxRel());
    assertEquals(0, stats.zeroed());
  }

  @Test
  void lengthsMustMatch() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new ErrorStats().add(new float[2], new float[3]));
    assertEquals("x has 2 values but y has 3", e.getMessage());
  }
}
