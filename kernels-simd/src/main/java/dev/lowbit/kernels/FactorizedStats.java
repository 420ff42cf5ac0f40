package dev.lowbit.kernels;

import java.lang.foreign.MemorySegment;

/**
 * The statistics phase of an Adam step with a {@link FactorizedMoment}, run before the fused
 * pass. The gradient used is the transformed one ({@link AdamScalars}: gradScale, clip, l2Decay),
 * squared in double. The order, fixed so every implementation and thread count agrees:
 *
 * <ul>
 *   <li>row sum of row {@code (b, i)}: the order of {@link SquareSums} applied to that row;
 *   <li>column sum of {@code (b, j)}: {@code 0.0 + g[b,0,j]^2 + g[b,1,j]^2 + ...}, rows in
 *       increasing order;
 *   <li>{@code R = beta2 * R + (1 - beta2) * (float) (rowSum / cols)}, likewise
 *       {@code C = beta2 * C + (1 - beta2) * (float) (colSum / rows)}, in float;
 *   <li>{@code meanR[b] = (float) ((0.0 + R[b,0] + R[b,1] + ...) / rows)} over the new R, rows in
 *       increasing order.
 * </ul>
 */
final class FactorizedStats {

  private FactorizedStats() {}

  /**
   * The reconstructed second moment of one element.
   *
   * @param row the element's row statistic {@code R[b,i]}
   * @param col the element's column statistic {@code C[b,j]}
   * @param meanRow {@code meanR[b]}
   * @return {@code (row * col) / meanRow}, or 0 when {@code meanRow} is 0
   */
  static float value(float row, float col, float meanRow) {
    return meanRow == 0f ? 0f : (row * col) / meanRow;
  }

  /**
   * Updates the row and column statistics in place and returns the new mean row statistic of
   * each matrix.
   *
   * @param s the step's scalars
   * @param param the parameter (read only here)
   * @param grad the gradient
   * @param f the factorized moment
   * @param threads worker threads
   * @return {@code meanR}, one float per matrix of the batch
   */
  static float[] update(
      AdamScalars s, MemorySegment param, MemorySegment grad, FactorizedMoment f, int threads) {
    long rows = f.rows();
    long cols = f.cols();
    float beta2 = s.beta2();
    float oneMinusBeta2 = 1f - beta2;
    long allRows = f.batch() * rows;
    long allCols = f.batch() * cols;
    KernelPool.split(
        allRows,
        Math.max(1, KernelPool.MIN_ELEMENTS_PER_TASK / Math.max(1, cols)),
        threads,
        (from, to) -> {
          float[] scratch = new float[SquareSums.CHUNK];
          for (long r = from; r < to; r++) {
            double sum = 0.0;
            for (long off = 0; off < cols; off += SquareSums.CHUNK) {
              int n = (int) Math.min(SquareSums.CHUNK, cols - off);
              long start = r * cols + off;
              for (int k = 0; k < n; k++) {
                scratch[k] = transformed(s, grad, param, start + k);
              }
              sum += SquareSums.chunk(scratch, n);
            }
            float old = Codes.getFloat(f.rowStats(), r);
            Codes.setFloat(
                f.rowStats(), r, beta2 * old + oneMinusBeta2 * (float) (sum / cols));
          }
        });
    KernelPool.split(
        allCols,
        Math.max(1, KernelPool.MIN_ELEMENTS_PER_TASK / Math.max(1, rows)),
        threads,
        (from, to) -> {
          for (long c = from; c < to; ) {
            long b = c / cols;
            long j0 = c % cols;
            long j1 = Math.min(cols, j0 + (to - c));
            double[] sums = new double[(int) (j1 - j0)];
            for (long i = 0; i < rows; i++) {
              long rowStart = (b * rows + i) * cols;
              for (long j = j0; j < j1; j++) {
                double g = transformed(s, grad, param, rowStart + j);
                sums[(int) (j - j0)] += g * g;
              }
            }
            for (long j = j0; j < j1; j++) {
              long at = b * cols + j;
              float old = Codes.getFloat(f.colStats(), at);
              Codes.setFloat(
                  f.colStats(), at,
                  beta2 * old + oneMinusBeta2 * (float) (sums[(int) (j - j0)] / rows));
            }
            c += j1 - j0;
          }
        });
    return meanRows(f);
  }

  /**
   * {@code meanR} of every matrix of the batch from the (new) row statistics: a double sum over
   * the rows in order, divided by the row count, rounded to float once. Shared by both
   * implementations so the order is written once.
   *
   * @param f the factorized state, its row statistics already updated
   * @return {@code meanR}, one float per matrix
   */
  static float[] meanRows(FactorizedMoment f) {
    long rows = f.rows();
    float[] meanRow = new float[Math.toIntExact(f.batch())];
    for (int b = 0; b < meanRow.length; b++) {
      double sum = 0.0;
      for (long i = 0; i < rows; i++) {
        sum += Codes.getFloat(f.rowStats(), b * rows + i);
      }
      meanRow[b] = (float) (sum / rows);
    }
    return meanRow;
  }

  private static float transformed(
      AdamScalars s, MemorySegment grad, MemorySegment param, long i) {
    return ScalarKernels.adamGrad(s, Codes.getFloat(grad, i), Codes.getFloat(param, i));
  }
}
