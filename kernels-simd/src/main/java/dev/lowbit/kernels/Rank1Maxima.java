package dev.lowbit.kernels;

import java.lang.foreign.MemorySegment;

/**
 * Pass 1 of an Adam step with a rank-1 second moment: the new row and column maxima of
 * {@code |v|} depend on every new value, so they are found first by computing each new
 * {@code v} with exactly the float operations of the fused pass (which then recomputes it).
 * Maxima are exact, so the row split over threads does not change them.
 */
final class Rank1Maxima {

  private Rank1Maxima() {}

  /** The new scales of a rank-1 moment. */
  record Scales(float[] rows, float[] cols) {}

  /**
   * Computes {@code max_j |v_new(i, j)|} per row and {@code max_i |v_new(i, j)|} per column.
   *
   * @param s the step's scalars
   * @param param the parameter (read only here)
   * @param grad the gradient
   * @param v the rank-1 second moment with its old scales
   * @param threads worker threads
   * @return the new row and column scales
   */
  static Scales compute(
      AdamScalars s, MemorySegment param, MemorySegment grad, Rank1Moment v, int threads) {
    int rows = Math.toIntExact(v.rows());
    int cols = Math.toIntExact(v.cols());
    float[] rowMax = new float[rows];
    float[] colMax = new float[cols];
    MomentChunks.Rank1 old = new MomentChunks.Rank1(v, null, null);
    float oneMinusBeta2 = 1f - s.beta2();
    long rowsPerTask = Math.max(1, (8L * SquareSums.CHUNK) / Math.max(1, cols));
    KernelPool.split(
        rows,
        rowsPerTask,
        threads,
        (from, to) -> {
          float[] localColMax = new float[cols];
          float[] vs = new float[SquareSums.CHUNK];
          for (long row = from; row < to; row++) {
            float max = 0f;
            for (int off = 0; off < cols; off += SquareSums.CHUNK) {
              int n = Math.min(SquareSums.CHUNK, cols - off);
              long start = row * cols + off;
              old.load(start, n, vs);
              for (int k = 0; k < n; k++) {
                float p = Codes.getFloat(param, start + k);
                float g = ScalarKernels.adamGrad(s, Codes.getFloat(grad, start + k), p);
                float a = Math.abs(ScalarKernels.secondMoment(s.beta2(), oneMinusBeta2, vs[k], g));
                max = Math.max(max, a);
                localColMax[off + k] = Math.max(localColMax[off + k], a);
              }
            }
            rowMax[(int) row] = max;
          }
          synchronized (colMax) {
            for (int j = 0; j < cols; j++) {
              colMax[j] = Math.max(colMax[j], localColMax[j]);
            }
          }
        });
    return new Scales(rowMax, colMax);
  }
}
