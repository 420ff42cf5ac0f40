package dev.lowbit.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API matrix product: the same bytes as {@link MatrixMultiply} for every size and
 * vector width.
 *
 * <p>Vectorized over the columns j of {@code C}: each lane accumulates its own {@code C[i][j]}
 * with the reference's sequence {@code acc = fma(A[i][p], B[p][j], acc)}, p in order from 0, so
 * no sum is reassociated. Speed comes from register blocking: 4 rows of {@code A} times a panel
 * of 4 vectors of {@code B}'s columns (16 accumulators, 4 loads of {@code B} per 16 fmas). The
 * panel is first copied into a contiguous buffer ({@code k x 4} vectors) so that walking down p
 * reads sequential memory instead of striding by a whole row of {@code B}. Columns left over
 * after the panels go one vector at a time, then the last {@code m mod lanes} columns through
 * {@link MatrixMultiply#element}.
 */
public final class SimdMatrixMultiply implements MatrixProduct {

  /** Rows of {@code A} per register block. */
  private static final int ROWS = 4;

  /** Vectors of {@code B}'s columns per register block (4 x 4 accumulators fit 32 zmm). */
  private static final int PANEL_VECTORS = 4;

  private final SimdShape shape;

  /**
   * The product at the default width: {@code -Ddev.lowbit.kernels.simd.bits} if set, else the
   * platform's preferred vector width (at most 512 bits).
   *
   * @throws IllegalArgumentException if the property is not 128, 256 or 512
   * @throws UnsupportedOperationException if the platform's vectors are narrower than 128 bits
   */
  public SimdMatrixMultiply() {
    this(SimdShape.defaultBits());
  }

  /**
   * The product at a given width (tests use this to run the narrower paths on a wide machine).
   *
   * @param vectorBits 128, 256 or 512
   * @throws IllegalArgumentException for any other width
   */
  public SimdMatrixMultiply(int vectorBits) {
    this.shape = SimdShape.of(vectorBits);
  }

  /**
   * The name, {@code simd-} and the width in bits.
   *
   * @return for example {@code simd-512}
   */
  @Override
  public String name() {
    return "simd-" + shape.bits();
  }

  /**
   * {@code C = A·B}, all row-major; {@code c} is overwritten. Same contract and same bytes as
   * {@link MatrixMultiply#multiply}.
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
  public void multiply(float[] a, float[] b, float[] c, int n, int k, int m) {
    MatrixMultiply.checkArguments(a, b, c, n, k, m);
    multiplyRows(a, b, c, k, m, 0, n);
  }

  /**
   * Rows {@code [rowFrom, rowTo)} of {@code C = A·B}; arguments already checked.
   *
   * @param a {@code A}, {@code k} columns
   * @param b {@code B}, {@code m} columns
   * @param c {@code C}, {@code m} columns
   * @param k columns of A
   * @param m columns of B and C
   * @param rowFrom first row of C to compute
   * @param rowTo one past the last row
   */
  @Override
  public void multiplyRows(
      float[] a, float[] b, float[] c, int k, int m, int rowFrom, int rowTo) {
    int lanes = shape.floats().length();
    int width = PANEL_VECTORS * lanes;
    int j = 0;
    if (m >= width && rowTo > rowFrom) {
      float[] panel = new float[k * width];
      for (; j + width <= m; j += width) {
        for (int p = 0; p < k; p++) {
          System.arraycopy(b, p * m + j, panel, p * width, width);
        }
        int i = rowFrom;
        for (; i + ROWS <= rowTo; i += ROWS) {
          panelRows4(a, panel, c, k, m, i, j);
        }
        for (; i < rowTo; i++) {
          panelRow1(a, panel, c, k, m, i, j);
        }
      }
    }
    for (; j + lanes <= m; j += lanes) {
      int i = rowFrom;
      for (; i + ROWS <= rowTo; i += ROWS) {
        vectorRows4(a, b, c, k, m, i, j);
      }
      for (; i < rowTo; i++) {
        vectorRow1(a, b, c, k, m, i, j);
      }
    }
    for (; j < m; j++) {
      for (int i = rowFrom; i < rowTo; i++) {
        c[i * m + j] = MatrixMultiply.element(a, b, i, j, k, m);
      }
    }
  }

  /** Rows i..i+3, panel columns j..j+4·lanes-1: the hot loop. */
  private void panelRows4(float[] a, float[] panel, float[] c, int k, int m, int i, int j) {
    VectorSpecies<Float> s = shape.floats();
    int lanes = s.length();
    int width = PANEL_VECTORS * lanes;
    FloatVector c00 = FloatVector.zero(s);
    FloatVector c01 = c00;
    FloatVector c02 = c00;
    FloatVector c03 = c00;
    FloatVector c10 = c00;
    FloatVector c11 = c00;
    FloatVector c12 = c00;
    FloatVector c13 = c00;
    FloatVector c20 = c00;
    FloatVector c21 = c00;
    FloatVector c22 = c00;
    FloatVector c23 = c00;
    FloatVector c30 = c00;
    FloatVector c31 = c00;
    FloatVector c32 = c00;
    FloatVector c33 = c00;
    int a0 = i * k;
    int a1 = a0 + k;
    int a2 = a1 + k;
    int a3 = a2 + k;
    for (int p = 0, q = 0; p < k; p++, q += width) {
      FloatVector b0 = FloatVector.fromArray(s, panel, q);
      FloatVector b1 = FloatVector.fromArray(s, panel, q + lanes);
      FloatVector b2 = FloatVector.fromArray(s, panel, q + 2 * lanes);
      FloatVector b3 = FloatVector.fromArray(s, panel, q + 3 * lanes);
      // x.fma(y, acc) rounds x*y + acc once, exactly Math.fma(A[i][p], B[p][j], acc).
      FloatVector x = FloatVector.broadcast(s, a[a0 + p]);
      c00 = b0.fma(x, c00);
      c01 = b1.fma(x, c01);
      c02 = b2.fma(x, c02);
      c03 = b3.fma(x, c03);
      x = FloatVector.broadcast(s, a[a1 + p]);
      c10 = b0.fma(x, c10);
      c11 = b1.fma(x, c11);
      c12 = b2.fma(x, c12);
      c13 = b3.fma(x, c13);
      x = FloatVector.broadcast(s, a[a2 + p]);
      c20 = b0.fma(x, c20);
      c21 = b1.fma(x, c21);
      c22 = b2.fma(x, c22);
      c23 = b3.fma(x, c23);
      x = FloatVector.broadcast(s, a[a3 + p]);
      c30 = b0.fma(x, c30);
      c31 = b1.fma(x, c31);
      c32 = b2.fma(x, c32);
      c33 = b3.fma(x, c33);
    }
    int o = i * m + j;
    c00.intoArray(c, o);
    c01.intoArray(c, o + lanes);
    c02.intoArray(c, o + 2 * lanes);
    c03.intoArray(c, o + 3 * lanes);
    o += m;
    c10.intoArray(c, o);
    c11.intoArray(c, o + lanes);
    c12.intoArray(c, o + 2 * lanes);
    c13.intoArray(c, o + 3 * lanes);
    o += m;
    c20.intoArray(c, o);
    c21.intoArray(c, o + lanes);
    c22.intoArray(c, o + 2 * lanes);
    c23.intoArray(c, o + 3 * lanes);
    o += m;
    c30.intoArray(c, o);
    c31.intoArray(c, o + lanes);
    c32.intoArray(c, o + 2 * lanes);
    c33.intoArray(c, o + 3 * lanes);
  }

  /** One row i (the rows left after blocks of 4), panel columns j..j+4·lanes-1. */
  private void panelRow1(float[] a, float[] panel, float[] c, int k, int m, int i, int j) {
    VectorSpecies<Float> s = shape.floats();
    int lanes = s.length();
    int width = PANEL_VECTORS * lanes;
    FloatVector c0 = FloatVector.zero(s);
    FloatVector c1 = c0;
    FloatVector c2 = c0;
    FloatVector c3 = c0;
    int a0 = i * k;
    for (int p = 0, q = 0; p < k; p++, q += width) {
      FloatVector x = FloatVector.broadcast(s, a[a0 + p]);
      c0 = FloatVector.fromArray(s, panel, q).fma(x, c0);
      c1 = FloatVector.fromArray(s, panel, q + lanes).fma(x, c1);
      c2 = FloatVector.fromArray(s, panel, q + 2 * lanes).fma(x, c2);
      c3 = FloatVector.fromArray(s, panel, q + 3 * lanes).fma(x, c3);
    }
    int o = i * m + j;
    c0.intoArray(c, o);
    c1.intoArray(c, o + lanes);
    c2.intoArray(c, o + 2 * lanes);
    c3.intoArray(c, o + 3 * lanes);
  }

  /** Rows i..i+3, one vector of columns j..j+lanes-1 read straight from {@code B}. */
  private void vectorRows4(float[] a, float[] b, float[] c, int k, int m, int i, int j) {
    VectorSpecies<Float> s = shape.floats();
    FloatVector c0 = FloatVector.zero(s);
    FloatVector c1 = c0;
    FloatVector c2 = c0;
    FloatVector c3 = c0;
    int a0 = i * k;
    int a1 = a0 + k;
    int a2 = a1 + k;
    int a3 = a2 + k;
    for (int p = 0, q = j; p < k; p++, q += m) {
      FloatVector bv = FloatVector.fromArray(s, b, q);
      c0 = bv.fma(FloatVector.broadcast(s, a[a0 + p]), c0);
      c1 = bv.fma(FloatVector.broadcast(s, a[a1 + p]), c1);
      c2 = bv.fma(FloatVector.broadcast(s, a[a2 + p]), c2);
      c3 = bv.fma(FloatVector.broadcast(s, a[a3 + p]), c3);
    }
    int o = i * m + j;
    c0.intoArray(c, o);
    c1.intoArray(c, o + m);
    c2.intoArray(c, o + 2 * m);
    c3.intoArray(c, o + 3 * m);
  }

  /** One row i, one vector of columns j..j+lanes-1 read straight from {@code B}. */
  private void vectorRow1(float[] a, float[] b, float[] c, int k, int m, int i, int j) {
    VectorSpecies<Float> s = shape.floats();
    FloatVector acc = FloatVector.zero(s);
    int a0 = i * k;
    for (int p = 0, q = j; p < k; p++, q += m) {
      acc = FloatVector.fromArray(s, b, q).fma(FloatVector.broadcast(s, a[a0 + p]), acc);
    }
    acc.intoArray(c, i * m + j);
  }
}
