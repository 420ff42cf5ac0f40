package dev.lowbit.bench.quanterror;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The Adam-like moments {@code lowbit quant-error} measures: reproducible, by their recipe. */
class AdamMomentsTest {

  @Test
  void sameSeedSameMoments() {
    AdamMoments a = AdamMoments.generate(new long[] {64, 32}, 5, 9);
    AdamMoments b = AdamMoments.generate(new long[] {64, 32}, 5, 9);
    assertArrayEquals(a.m(), b.m(), 0f);
    assertArrayEquals(a.v(), b.v(), 0f);
    assertFalse(Arrays.equals(a.m(), AdamMoments.generate(new long[] {64, 32}, 5, 10).m()));
  }

  @Test
  void oneStepIsTheFirstUpdateOfTheRecurrences() {
    // After one step from zero: m = (1 - β1) g and v = (1 - β2) g², so
    // v = (1 - β2) / (1 - β1)² · m², with the float32 values of 1 - β (about 0.1 m²).
    float oneMinusBeta1 = 1 - AdamMoments.BETA1;
    float oneMinusBeta2 = 1 - AdamMoments.BETA2;
    double ratio = (double) oneMinusBeta2 / ((double) oneMinusBeta1 * oneMinusBeta1);
    AdamMoments one = AdamMoments.generate(new long[] {1000}, 1, 3);
    for (int i = 0; i < 1000; i++) {
      double m = one.m()[i];
      assertEquals(ratio * m * m, one.v()[i], 1e-6 * one.v()[i]);
    }
  }

  @Test
  void momentsAreHeavyTailedAndVIsPositive() {
    AdamMoments t = AdamMoments.generate(new long[] {256, 256}, 10, 1);
    double sumAbs = 0;
    float max = 0;
    for (int i = 0; i < t.m().length; i++) {
      assertTrue(t.v()[i] > 0f, "v at " + i);
      sumAbs += Math.abs(t.m()[i]);
      max = Math.max(max, Math.abs(t.m()[i]));
    }
    // A Gaussian's max over 65536 draws is about 5 times its mean |x|; heavy tails reach far more.
    assertTrue(max > 20 * sumAbs / t.m().length, "max " + max + " mean " + sumAbs / t.m().length);
    assertEquals("256x256", t.label());
  }

  @Test
  void badArgumentsAreNamed() {
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> AdamMoments.generate(new long[] {4, 4}, 0, 1)).getMessage().contains("steps"));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> AdamMoments.generate(new long[] {2, 2, 2}, 1, 1)).getMessage().contains("shape"));
    // rows * cols overflows a long and wrapped to a small number: NegativeArraySizeException
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> AdamMoments.generate(new long[] {3037000500L, 3037000500L}, 1, 1)).getMessage()
        .contains("too large"));
  }

  /**
   * The class's recipe, step by step: per-row scales {@code 1e-3 exp(N)}, per-column scales
   * {@code exp(0.5 N)} (1 for a vector, drawing nothing), gradients {@code row * col * N *
   * exp(0.75 N)}, then Adam's recurrences in float32.
   */
  private static float[][] byTheRecipe(int rows, int cols, boolean matrix, int steps, long seed) {
    java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
    float[] rowScale = new float[rows];
    for (int i = 0; i < rows; i++) {
      rowScale[i] = (float) (1e-3 * Math.exp(random.nextGaussian()));
    }
    float[] colScale = new float[cols];
    for (int j = 0; j < cols; j++) {
      colScale[j] = matrix ? (float) Math.exp(0.5 * random.nextGaussian()) : 1f;
    }
    float[] m = new float[rows * cols];
    float[] v = new float[rows * cols];
    for (int t = 0; t < steps; t++) {
      for (int k = 0; k < rows * cols; k++) {
        float g = (float) (rowScale[k / cols] * colScale[k % cols] * random.nextGaussian()
            * Math.exp(0.75 * random.nextGaussian()));
        m[k] = AdamMoments.BETA1 * m[k] + (1 - AdamMoments.BETA1) * g;
        v[k] = AdamMoments.BETA2 * v[k] + (1 - AdamMoments.BETA2) * g * g;
      }
    }
    return new float[][] {m, v};
  }

  @Test
  void theMomentsFollowTheDocumentedRecipe() {
    AdamMoments matrix = AdamMoments.generate(new long[] {3, 4}, 3, 5);
    float[][] expected = byTheRecipe(3, 4, true, 3, 5);
    assertArrayEquals(expected[0], matrix.m(), 0f);
    assertArrayEquals(expected[1], matrix.v(), 0f);
    AdamMoments vector = AdamMoments.generate(new long[] {7}, 2, 6);
    expected = byTheRecipe(7, 1, false, 2, 6);
    assertArrayEquals(expected[0], vector.m(), 0f);
    assertArrayEquals(expected[1], vector.v(), 0f);
  }

  @Test
  void aSizeOfOneIsAllowedInEitherDimension() {
    assertEquals(5, AdamMoments.generate(new long[] {1, 5}, 1, 1).m().length);
    assertEquals(5, AdamMoments.generate(new long[] {5, 1}, 1, 1).v().length);
  }
}
