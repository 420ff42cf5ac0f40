package dev.lowbit.kernels;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link FactorizedStats#update} with vectors, in the documented summation order: a row sum is
 * {@link SimdSquareSums} over the row's transformed gradient (chunks from the row's start); a
 * column sum adds {@code g^2} in double row by row, lanes being columns, so each column still
 * sums its rows in increasing order. The same row and column splits over threads as the
 * reference (each row or column is computed whole by one thread).
 */
final class SimdFactorizedStats {

  private static final ByteOrder ORDER = ByteOrder.nativeOrder();

  private SimdFactorizedStats() {}

  /**
   * Updates the statistics in place and returns {@code meanR} per matrix, identical to
   * {@link FactorizedStats#update}.
   *
   * @param shape vector width
   * @param s the step's scalars
   * @param param the parameter (read only here)
   * @param grad the gradient
   * @param f the factorized moment
   * @param threads worker threads
   * @return {@code meanR}, one float per matrix
   */
  static float[] update(
      SimdShape shape,
      AdamScalars s,
      MemorySegment param,
      MemorySegment grad,
      FactorizedMoment f,
      int threads) {
    long rows = f.rows();
    long cols = f.cols();
    float beta2 = s.beta2();
    float oneMinusBeta2 = 1f - beta2;
    KernelPool.split(
        f.batch() * rows,
        Math.max(1, KernelPool.MIN_ELEMENTS_PER_TASK / Math.max(1, cols)),
        threads,
        (from, to) -> {
          float[] scratch = new float[SquareSums.CHUNK];
          for (long r = from; r < to; r++) {
            double sum = 0.0;
            for (long off = 0; off < cols; off += SquareSums.CHUNK) {
              int n = (int) Math.min(SquareSums.CHUNK, cols - off);
              transformed(shape, s, param, grad, r * cols + off, n, scratch);
              sum += SimdSquareSums.chunk(shape, scratch, n);
            }
            float old = Codes.getFloat(f.rowStats(), r);
            Codes.setFloat(f.rowStats(), r, beta2 * old + oneMinusBeta2 * (float) (sum / cols));
          }
        });
    KernelPool.split(
        f.batch() * cols,
        Math.max(1, KernelPool.MIN_ELEMENTS_PER_TASK / Math.max(1, rows)),
        threads,
        (from, to) -> {
          float[] scratch = new float[SquareSums.CHUNK];
          double[] sums = new double[SquareSums.CHUNK];
          for (long c = from; c < to; ) {
            long b = c / cols;
            long j0 = c % cols;
            int width = (int) Math.min(Math.min(cols - j0, to - c), SquareSums.CHUNK);
            java.util.Arrays.fill(sums, 0, width, 0.0);
            for (long i = 0; i < rows; i++) {
              transformed(shape, s, param, grad, (b * rows + i) * cols + j0, width, scratch);
              addSquares(shape, scratch, width, sums);
            }
            for (int j = 0; j < width; j++) {
              long at = b * cols + j0 + j;
              float old = Codes.getFloat(f.colStats(), at);
              Codes.setFloat(
                  f.colStats(), at, beta2 * old + oneMinusBeta2 * (float) (sums[j] / rows));
            }
            c += width;
          }
        });
    return FactorizedStats.meanRows(f);
  }

  /**
   * {@code out[k]} = the transformed gradient of element {@code start + k}
   * (ScalarKernels.adamGrad).
   */
  private static void transformed(
      SimdShape shape,
      AdamScalars s,
      MemorySegment param,
      MemorySegment grad,
      long start,
      int n,
      float[] out) {
    VectorSpecies<Float> floats = shape.floats();
    long base = start * Float.BYTES;
    int bound = floats.loopBound(n);
    int k = 0;
    for (; k < bound; k += floats.length()) {
      long at = base + 4L * k;
      SimdUpdate.transform(
              FloatVector.fromMemorySegment(floats, grad, at, ORDER),
              FloatVector.fromMemorySegment(floats, param, at, ORDER),
              s.gradScale(),
              s.clip(),
              s.l2Decay())
          .intoArray(out, k);
    }
    for (; k < n; k++) {
      out[k] =
          ScalarKernels.adamGrad(
              s, Codes.getFloat(grad, start + k), Codes.getFloat(param, start + k));
    }
  }

  /** {@code sums[j] += (double) g[j] * (double) g[j]} for {@code j < n}. */
  private static void addSquares(SimdShape shape, float[] g, int n, double[] sums) {
    VectorSpecies<Float> floats = shape.floats();
    VectorSpecies<Double> doubles = shape.doubles();
    int half = doubles.length();
    int bound = floats.loopBound(n);
    int j = 0;
    for (; j < bound; j += floats.length()) {
      FloatVector x = FloatVector.fromArray(floats, g, j);
      DoubleVector lo = (DoubleVector) x.convertShape(VectorOperators.F2D, doubles, 0);
      DoubleVector hi = (DoubleVector) x.convertShape(VectorOperators.F2D, doubles, 1);
      DoubleVector.fromArray(doubles, sums, j).add(lo.mul(lo)).intoArray(sums, j);
      DoubleVector.fromArray(doubles, sums, j + half).add(hi.mul(hi)).intoArray(sums, j + half);
    }
    for (; j < n; j++) {
      double x = g[j];
      sums[j] += x * x;
    }
  }
}
