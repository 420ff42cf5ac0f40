package dev.lowbit.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/**
 * Width selection: the preferred width by default, 128/256/512 on request, anything else refused.
 */
class SimdShapeTest {

  @Test
  void defaultWidthIsThePreferredOneUnlessForced() {
    String forced = System.getProperty(SimdShape.BITS_PROPERTY);
    int expected =
        forced != null
            ? Integer.parseInt(forced)
            : Math.min(512, FloatVector.SPECIES_PREFERRED.vectorBitSize());
    assertEquals("simd-" + expected, new SimdKernels().name());
  }

  @Test
  void everySupportedWidthHasItsLaneCounts() {
    for (int bits : new int[] {128, 256, 512}) {
      SimdShape shape = SimdShape.of(bits);
      assertEquals(bits, shape.bits());
      assertEquals(bits / 32, shape.floats().length());
      assertEquals(bits / 32, shape.ints().length());
      assertEquals(bits / 64, shape.doubles().length());
    }
  }

  @Test
  void theWidthPropertyForcesAWidthAndABadValueIsNamed() {
    String saved = System.getProperty(SimdShape.BITS_PROPERTY);
    try {
      System.setProperty(SimdShape.BITS_PROPERTY, "256");
      assertEquals("simd-256", new SimdKernels().name());
      System.setProperty(SimdShape.BITS_PROPERTY, "64");
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, SimdKernels::new);
      assertTrue(e.getMessage().contains(SimdShape.BITS_PROPERTY), e.getMessage());
    } finally {
      if (saved == null) {
        System.clearProperty(SimdShape.BITS_PROPERTY);
      } else {
        System.setProperty(SimdShape.BITS_PROPERTY, saved);
      }
    }
  }

  @Test
  void otherWidthsAreRefusedByName() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new SimdKernels(64));
    assertTrue(e.getMessage().contains("vectorBits"), e.getMessage());
  }
}
