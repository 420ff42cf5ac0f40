package dev.lowbit.kernels;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The gradient check ({@link OptimizerKernels#firstBeyond}) over worker threads: each thread
 * scans a contiguous range of chunks with the single-threaded check, and the smallest index found
 * wins, so the answer is the same for every thread count.
 */
final class NonFiniteScan {

  private NonFiniteScan() {}

  /**
   * Index of the first element that is NaN or of magnitude above {@code limit}, or -1.
   *
   * @param kernels the implementation whose single-threaded check scans each range
   * @param values the floats
   * @param length number of floats
   * @param limit the largest magnitude accepted
   * @param threads worker threads requested
   * @return the first bad index, or -1
   */
  static long first(
      OptimizerKernels kernels, MemorySegment values, long length, float limit, int threads) {
    ScalarKernels.checkLimit(limit); // also when there is nothing to scan
    AtomicLong first = new AtomicLong(Long.MAX_VALUE);
    KernelPool.splitChunks(
        ScalarKernels.chunkCount(length),
        KernelPool.usable(threads, values),
        (from, to) -> {
          long start = from * SquareSums.CHUNK;
          long end = Math.min(length, to * SquareSums.CHUNK);
          MemorySegment range = values.asSlice(start * Float.BYTES, (end - start) * Float.BYTES);
          long bad = kernels.firstBeyond(range, end - start, limit);
          if (bad >= 0) {
            first.accumulateAndGet(start + bad, Math::min);
          }
        });
    return first.get() == Long.MAX_VALUE ? -1 : first.get();
  }
}
