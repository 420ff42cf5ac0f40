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
  record Scales(float[] rows, float[] cols) {

    /**
     * The scales a step encodes with and stores: these for a matrix; for a tensor of rank above
     * 2 ({@code rowDims} not null) the row maxima become row scales as {@link Rank1Moment} says,
     * the min over the leading dimensions of their max vectors.
     *
     * @param rowDims the moment's leading dimensions, or null
     * @return the scales to use
     */
    Scales forRowDims(long[] rowDims) {
      if (rowDims == null || rowDims.length <= 1) {
        return this; // one leading dimension: the max vector is the row maxima themselves
      }
      int k = rowDims.length;
      float[][] dimMax = new float[k][];
      for (int d = 0; d < k; d++) {
        dimMax[d] = new float[Math.toIntExact(rowDims[d])];
      }
      int[] index = new int[k];
      for (float rowMax : rows) {
        for (int d = 0; d < k; d++) {
          dimMax[d][index[d]] = Math.max(dimMax[d][index[d]], rowMax);
        }
        advance(index, rowDims);
      }
      float[] scales = new float[rows.length];
      java.util.Arrays.fill(index, 0);
      for (int row = 0; row < scales.length; row++) {
        float scale = Float.POSITIVE_INFINITY;
        for (int d = 0; d < k; d++) {
          scale = Math.min(scale, dimMax[d][index[d]]);
        }
        scales[row] = scale;
        advance(index, rowDims);
      }
      return new Scales(scales, cols);
    }

    /** Row-major odometer over {@code dims}. */
    private static void advance(int[] index, long[] dims) {
      for (int d = index.length - 1; d >= 0; d--) {
        if (++index[d] < dims[d]) {
          return;
        }
        index[d] = 0;
      }
    }
  }

  /**
   * Computes {@code max_j |v_new(i, j)|} per row and {@code max_i |v_new(i, j)|} per column;
   * for a tensor of rank above 2 the rows are then turned into the row scales its rule gives
   * ({@link Scales#forRowDims}).
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
    long rowsPerTask = Math.max(1, KernelPool.MIN_ELEMENTS_PER_TASK / Math.max(1, cols));
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
    return new Scales(rowMax, colMax).forRowDims(v.rowDims());
  }
}
