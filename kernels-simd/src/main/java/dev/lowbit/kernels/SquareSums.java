package dev.lowbit.kernels;

import java.lang.foreign.MemorySegment;

/**
 * The one summation order of squares used everywhere ({@link OptimizerKernels#sumOfSquares} and
 * the row sums of {@link FactorizedMoment}), so that every implementation and thread count gets
 * the same double:
 *
 * <ol>
 *   <li>The sequence is cut into chunks of {@link #CHUNK} elements from its start (the last one
 *       may be partial).
 *   <li>Within a chunk, element {@code k} (offset from the chunk start) is added to lane
 *       {@code k % 16} of 16 double accumulators that start at {@code 0.0}, in increasing
 *       {@code k}: {@code lane += (double) x * (double) x}.
 *   <li>The chunk's sum is {@code ((((0.0 + lane0) + lane1) + lane2) + ...) + lane15}.
 *   <li>The total is {@code 0.0} plus the chunk sums, added one by one in chunk order.
 * </ol>
 */
final class SquareSums {

  /** Elements per chunk. Also the work unit of every kernel loop. */
  static final int CHUNK = 4096;

  /** Independent accumulators per chunk: 16 double lanes (two AVX-512 or four AVX2 vectors). */
  static final int LANES = 16;

  private SquareSums() {}

  /** The sum of squares of one chunk, as one implementation computes it. */
  @FunctionalInterface
  interface ChunkSum {
    /**
     * Sums the squares of one chunk.
     *
     * @param start first element of the chunk
     * @param n elements in the chunk, at most {@link #CHUNK}
     * @param scratch a {@link #CHUNK}-float buffer owned by the calling worker
     * @return the chunk's sum, in the documented order
     */
    double sum(long start, int n, float[] scratch);
  }

  /**
   * Steps 1 and 4 of the documented order: the chunks of {@code length} elements are summed by
   * {@code chunkSum} over worker threads, then added one by one in chunk order, so the total does
   * not depend on the thread count.
   *
   * @param values the floats (to decide whether worker threads may read them)
   * @param length number of floats
   * @param threads worker threads requested
   * @param chunkSum one implementation's chunk sum
   * @return the total
   */
  static double total(MemorySegment values, long length, int threads, ChunkSum chunkSum) {
    long chunks = ScalarKernels.chunkCount(length);
    double[] sums = new double[Math.toIntExact(chunks)];
    KernelPool.forEachChunk(
        length,
        KernelPool.usable(threads, values),
        () -> new float[CHUNK],
        null,
        (start, n, scratch) -> sums[(int) (start / CHUNK)] = chunkSum.sum(start, n, scratch));
    double total = 0.0;
    for (double sum : sums) {
      total += sum;
    }
    return total;
  }

  /**
   * Sum of squares of one chunk of a segment, in the documented order.
   *
   * @param values the floats
   * @param start first element of the chunk
   * @param n elements in the chunk, at most {@link #CHUNK}
   * @return the chunk's sum
   */
  static double chunk(MemorySegment values, long start, int n) {
    double[] lanes = new double[LANES];
    for (int k = 0; k < n; k++) {
      double x = Codes.getFloat(values, start + k);
      lanes[k % LANES] += x * x;
    }
    return combine(lanes);
  }

  /**
   * Sum of squares of one chunk held in an array, in the documented order.
   *
   * @param values the floats
   * @param n elements, at most {@link #CHUNK}
   * @return the chunk's sum
   */
  static double chunk(float[] values, int n) {
    double[] lanes = new double[LANES];
    for (int k = 0; k < n; k++) {
      double x = values[k];
      lanes[k % LANES] += x * x;
    }
    return combine(lanes);
  }

  /**
   * Adds the 16 lanes in lane order.
   *
   * @param lanes the accumulators
   * @return their sum
   */
  static double combine(double[] lanes) {
    double sum = 0.0;
    for (double lane : lanes) {
      sum += lane;
    }
    return sum;
  }
}
