package dev.lowbit.kernels;

/**
 * The scalar reference for float32 matrix products: row-major {@code C = A·B} with {@code A}
 * {@code n x k}, {@code B} {@code k x m} and {@code C} {@code n x m}.
 *
 * <p>Every element is one fixed sequence of roundings, which is what the Vector API
 * implementation ({@link SimdMatrixMultiply}) reproduces lane by lane:
 * <pre>
 * acc = 0f
 * for p = 0 .. k-1:  acc = Math.fma(A[i][p], B[p][j], acc)
 * C[i][j] = acc
 * </pre>
 */
public final class MatrixMultiply {

  private MatrixMultiply() {}

  /**
   * {@code C = A·B}, all row-major; {@code c} is overwritten.
   *
   * @param a {@code n * k} floats
   * @param b {@code k * m} floats
   * @param c {@code n * m} floats, not the same array as {@code a} or {@code b}
   * @param n rows of A and C
   * @param k columns of A, rows of B
   * @param m columns of B and C
   * @throws IllegalArgumentException if a size is negative, an array is too short, or {@code c}
   *     is {@code a} or {@code b}
   */
  public static void multiply(float[] a, float[] b, float[] c, int n, int k, int m) {
    checkArguments(a, b, c, n, k, m);
    multiplyRows(a, b, c, k, m, 0, n);
  }

  /** Rows {@code [rowFrom, rowTo)} of {@code C = A·B}; arguments already checked. */
  static void multiplyRows(float[] a, float[] b, float[] c, int k, int m, int rowFrom, int rowTo) {
    for (int i = rowFrom; i < rowTo; i++) {
      for (int j = 0; j < m; j++) {
        c[i * m + j] = element(a, b, i, j, k, m);
      }
    }
  }

  /**
   * One element {@code C[i][j]}: the reference sequence of fmas. The SIMD implementation's scalar
   * tail calls this too, so both paths share one definition.
   */
  static float element(float[] a, float[] b, int i, int j, int k, int m) {
    float acc = 0f;
    int row = i * k;
    for (int p = 0; p < k; p++) {
      acc = Math.fma(a[row + p], b[p * m + j], acc);
    }
    return acc;
  }

  /** The one argument check every entry point shares. */
  static void checkArguments(float[] a, float[] b, float[] c, int n, int k, int m) {
    if (n < 0 || k < 0 || m < 0) {
      throw new IllegalArgumentException(
          "sizes must be >= 0, got n=" + n + ", k=" + k + ", m=" + m);
    }
    check(a, (long) n * k, "a", "n * k");
    check(b, (long) k * m, "b", "k * m");
    check(c, (long) n * m, "c", "n * m");
    if (c == a || c == b) {
      throw new IllegalArgumentException("c must not be the same array as a or b");
    }
  }

  private static void check(float[] array, long needed, String name, String formula) {
    if (array == null) {
      throw new IllegalArgumentException(name + " is null");
    }
    if (array.length < needed) {
      throw new IllegalArgumentException(
          name + " has " + array.length + " floats, " + formula + " = " + needed + " needed");
    }
  }
}
