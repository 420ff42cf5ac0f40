package dev.lowbit.kernels;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Rank1Maxima} with vectors: the new {@code max |v|} per row and per column, found before
 * the fused pass by computing each new v with the fused pass's own operations. Work is split by
 * kernel chunks; each task keeps its own maxima and they are merged at the end. Maxima are exact
 * (and kept as bit patterns of non-negative floats, whose integer order is their float order), so
 * neither the split nor the merge order changes them.
 */
final class SimdRank1Maxima {

  private SimdRank1Maxima() {}

  /**
   * The new row and column scales of a rank-1 second moment.
   *
   * @param shape vector width
   * @param s the step's scalars
   * @param param the parameter (read only here)
   * @param grad the gradient
   * @param v the moment with its old scales
   * @param oldRows a copy of its row scales
   * @param oldCols a copy of its column scales
   * @param length number of elements ({@code rows * cols})
   * @param threads worker threads
   * @return the new scales
   */
  static Rank1Maxima.Scales compute(
      SimdShape shape,
      AdamScalars s,
      MemorySegment param,
      MemorySegment grad,
      Rank1Moment v,
      float[] oldRows,
      float[] oldCols,
      long length,
      int threads) {
    int rows = Math.toIntExact(v.rows());
    int cols = Math.toIntExact(v.cols());
    int[] rowMax = new int[rows];
    int[] colMax = new int[cols];
    KernelPool.splitChunks(
        ScalarKernels.chunkCount(length),
        threads,
        (from, to) -> {
          int[] localRows = new int[rows];
          int[] localCols = new int[cols];
          float[] vs = new float[SquareSums.CHUNK];
          float[] scales = new float[SquareSums.CHUNK];
          int[] index = new int[SquareSums.CHUNK];
          for (long c = from; c < to; c++) {
            long start = c * SquareSums.CHUNK;
            int n = ScalarKernels.chunkLength(length, start);
            SimdMomentTiles.loadRank1(shape, v, oldRows, oldCols, start, n, vs, scales, index);
            SimdUpdate.secondMoment(shape, s, param, grad, start, n, vs);
            accumulate(shape, vs, start, n, cols, localRows, localCols);
          }
          synchronized (rowMax) {
            for (int i = 0; i < rows; i++) {
              rowMax[i] = Math.max(rowMax[i], localRows[i]);
            }
            for (int j = 0; j < cols; j++) {
              colMax[j] = Math.max(colMax[j], localCols[j]);
            }
          }
        });
    return new Rank1Maxima.Scales(toFloats(rowMax), toFloats(colMax)).forRowDims(v.rowDims());
  }

  /** Folds {@code |vs[k]|} of elements {@code start + k} into the row and column maxima. */
  private static void accumulate(
      SimdShape shape, float[] vs, long start, int n, int cols, int[] rowMax, int[] colMax) {
    VectorSpecies<Float> floats = shape.floats();
    VectorSpecies<Integer> ints = shape.ints();
    int row = (int) (start / cols);
    int col = (int) (start % cols);
    int k = 0;
    while (k < n) {
      int len = Math.min(n - k, cols - col);
      int bound = k + floats.loopBound(len);
      IntVector acc = IntVector.zero(ints);
      int e = k;
      for (; e < bound; e += floats.length()) {
        IntVector a = FloatVector.fromArray(floats, vs, e).reinterpretAsInts().and(0x7FFFFFFF);
        acc = acc.max(a);
        int j = col + (e - k);
        IntVector.fromArray(ints, colMax, j).max(a).intoArray(colMax, j);
      }
      int max = Math.max(rowMax[row], acc.reduceLanes(VectorOperators.MAX));
      for (; e < k + len; e++) {
        int a = Float.floatToRawIntBits(vs[e]) & 0x7FFFFFFF;
        max = Math.max(max, a);
        int j = col + (e - k);
        colMax[j] = Math.max(colMax[j], a);
      }
      rowMax[row] = max;
      k += len;
      col = 0;
      row++;
    }
  }

  private static float[] toFloats(int[] bits) {
    float[] out = new float[bits.length];
    for (int i = 0; i < bits.length; i++) {
      out[i] = Float.intBitsToFloat(bits[i]);
    }
    return out;
  }
}
