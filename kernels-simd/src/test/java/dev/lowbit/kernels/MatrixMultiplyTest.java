package dev.lowbit.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link MatrixMultiply}, the scalar reference: close to the exact product, and exactly the
 * documented sequence of roundings (in order over p, fused multiply-adds).
 */
class MatrixMultiplyTest {

  /**
   * Against a double-precision product, within the classic bound for a float32 dot product of
   * length k: {@code |c - exact| <= gamma_k * sum_p |a_ip b_pj|} with
   * {@code gamma_k = k u / (1 - k u)}, {@code u = 2^-24} (Higham, Accuracy and Stability of
   * Numerical Algorithms, eq. 3.5). Double's own error is about 2^-29 of that and ignored.
   */
  @ParameterizedTest
  @CsvSource({"1,1,1", "7,13,5", "17,33,129", "64,64,64", "100,1200,37", "3,4097,2"})
  void agreesWithDoubleWithinTheDotProductBound(int n, int k, int m) {
    SplittableRandom random = new SplittableRandom(n * 31L + k * 7L + m);
    float[] a = gaussian(n * k, random);
    float[] b = gaussian(k * m, random);
    float[] c = new float[n * m];
    MatrixMultiply.multiply(a, b, c, n, k, m);
    double u = Math.scalb(1.0, -24);
    double gamma = k * u / (1 - k * u);
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < m; j++) {
        double exact = 0;
        double magnitude = 0;
        for (int p = 0; p < k; p++) {
          double term = (double) a[i * k + p] * b[p * m + j];
          exact += term;
          magnitude += Math.abs(term);
        }
        double error = Math.abs(c[i * m + j] - exact);
        assertTrue(
            error <= gamma * magnitude,
            "C[" + i + "][" + j + "] = " + c[i * m + j] + ", exact " + exact + ", error " + error
                + " > bound " + gamma * magnitude);
      }
    }
  }

  /** The sum runs over p in order: 1e8 + 1 rounds back to 1e8, so the 1 is lost (exact: 1). */
  @Test
  void accumulatesInOrderOfP() {
    float[] a = {1e8f, 1f, -1e8f};
    float[] b = {1f, 1f, 1f};
    float[] c = new float[1];
    MatrixMultiply.multiply(a, b, c, 1, 3, 1);
    assertEquals(0f, c[0]);
  }

  /**
   * Each step is one fused multiply-add: {@code (1 + 2^-12)^2 = 1 + 2^-11 + 2^-24} is kept
   * exactly against the accumulator {@code -(1 + 2^-11)}, leaving {@code 2^-24}; a separately
   * rounded product would round to {@code 1 + 2^-11} (tie to even) and leave 0.
   */
  @Test
  void eachTermIsOneFusedMultiplyAdd() {
    float x = 1f + Math.scalb(1f, -12);
    float[] a = {1f, x};
    float[] b = {-(1f + Math.scalb(1f, -11)), x};
    float[] c = new float[1];
    MatrixMultiply.multiply(a, b, c, 1, 2, 1);
    assertEquals(Math.scalb(1f, -24), c[0]);
  }

  /** An empty inner dimension gives zeros, overwriting whatever {@code c} held. */
  @Test
  void emptyInnerDimensionGivesZeros() {
    float[] c = {Float.NaN, 5f, -3f, 1f, 2f, 7f};
    MatrixMultiply.multiply(new float[0], new float[0], c, 2, 0, 3);
    for (float x : c) {
      assertEquals(0f, x);
    }
  }

  @Test
  void rejectsBadArguments() {
    float[] a = new float[6];
    float[] b = new float[6];
    float[] c = new float[4];
    assertThrows(IllegalArgumentException.class, () -> MatrixMultiply.multiply(a, b, c, -1, 3, 2));
    assertThrows(IllegalArgumentException.class, () -> MatrixMultiply.multiply(a, b, c, 2, 4, 2));
    assertThrows(IllegalArgumentException.class, () -> MatrixMultiply.multiply(a, b, c, 2, 3, 3));
    assertThrows(IllegalArgumentException.class, () -> MatrixMultiply.multiply(a, b, a, 2, 3, 2));
    assertThrows(
        IllegalArgumentException.class, () -> MatrixMultiply.multiply(null, b, c, 2, 3, 2));
    assertThrows(
        IllegalArgumentException.class, () -> MatrixKernels.multiply(a, b, c, 2, 3, 2, 0));
  }

  /**
   * Each array is checked against its own size (the cases above break several at once), and an
   * empty C (n or m of 0) is a valid product with nothing to write.
   */
  @Test
  void eachShortArrayIsNamedAloneAndEmptyProductsAreAllowed() {
    // n = 2, k = 3, m = 2: a needs 6, b needs 6, c needs 4.
    assertTooShort("a has 5 floats",
        () -> MatrixMultiply.multiply(new float[5], new float[6], new float[4], 2, 3, 2));
    assertTooShort("b has 5 floats",
        () -> MatrixMultiply.multiply(new float[6], new float[5], new float[4], 2, 3, 2));
    assertTooShort("c has 3 floats",
        () -> MatrixMultiply.multiply(new float[6], new float[6], new float[3], 2, 3, 2));
    float[] untouched = {7f};
    MatrixMultiply.multiply(new float[0], new float[6], untouched, 0, 3, 2);
    MatrixMultiply.multiply(new float[6], new float[0], untouched, 2, 3, 0);
    assertEquals(7f, untouched[0]);
  }

  private static void assertTooShort(
      String fragment, org.junit.jupiter.api.function.Executable call) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
    assertTrue(e.getMessage().startsWith(fragment), e.getMessage());
  }

  static float[] gaussian(int length, SplittableRandom random) {
    float[] x = new float[length];
    for (int i = 0; i < length; i++) {
      x[i] = (float) random.nextGaussian();
    }
    return x;
  }
}
