package dev.lowbit.kernels;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The worker threads of the kernels: daemon threads created on first use and reused. A call with
 * {@code threads = 1} (or too little work) runs on the caller's thread. Work is split into
 * contiguous ranges of units (chunks, rows or columns); kernels give each unit the same
 * arithmetic whatever the split, which is what makes results independent of the thread count.
 */
final class KernelPool {

  /**
   * Chunks below which a range is not worth a task hand-off. Package-private so that tests size
   * their calls from it: a call is split only when it has twice as many chunks.
   */
  static final int MIN_CHUNKS_PER_TASK = 8;

  /**
   * Elements below which a range of matrix rows or columns is not worth a task hand-off: the
   * same work as {@link #MIN_CHUNKS_PER_TASK} chunks, so row and column phases split where
   * element-wise ones do.
   */
  static final long MIN_ELEMENTS_PER_TASK = (long) MIN_CHUNKS_PER_TASK * SquareSums.CHUNK;

  private KernelPool() {}

  /** Work on units {@code [from, to)}. */
  @FunctionalInterface
  interface RangeTask {
    /**
     * Processes a contiguous range of units.
     *
     * @param from first unit
     * @param to one past the last unit
     */
    void run(long from, long to);
  }

  /**
   * Runs {@code task} over {@code [0, units)} split into at most {@code threads} contiguous
   * ranges, the first on the caller's thread; returns when all are done, rethrowing the first
   * failure.
   *
   * @param units number of work units
   * @param minUnitsPerTask smallest range worth a thread of its own
   * @param threads requested threads, at least 1
   * @param task the work
   * @throws IllegalArgumentException if {@code threads < 1}
   */
  static void split(long units, long minUnitsPerTask, int threads, RangeTask task) {
    checkThreads(threads);
    if (units <= 0) {
      return;
    }
    long parts = Math.min(threads, Math.max(1, units / Math.max(1, minUnitsPerTask)));
    if (parts <= 1) {
      task.run(0, units);
      return;
    }
    List<Future<?>> futures = new ArrayList<>();
    for (long part = 1; part < parts; part++) {
      long from = units * part / parts;
      long to = units * (part + 1) / parts;
      futures.add(Holder.POOL.submit(() -> task.run(from, to)));
    }
    Throwable failure = null;
    try {
      task.run(0, units / parts);
    } catch (RuntimeException | Error e) {
      failure = e;
    }
    failure = awaitAll(futures, failure);
    if (failure instanceof RuntimeException e) {
      throw e;
    }
    if (failure instanceof Error e) {
      throw e;
    }
    if (failure != null) {
      throw new IllegalStateException("kernel worker failed", failure);
    }
  }

  /**
   * Splits kernel chunks ({@link SquareSums#CHUNK} elements each) over threads.
   *
   * @param chunks number of chunks
   * @param threads requested threads
   * @param task the work on a range of chunks
   */
  static void splitChunks(long chunks, int threads, RangeTask task) {
    split(chunks, MIN_CHUNKS_PER_TASK, threads, task);
  }

  /** The work on one chunk, with the calling worker's scratch. */
  @FunctionalInterface
  interface ChunkTask<S> {
    /**
     * Processes one chunk.
     *
     * @param start first element of the chunk
     * @param n elements in the chunk, at most {@link SquareSums#CHUNK}
     * @param scratch the worker's scratch
     */
    void run(long start, int n, S scratch);
  }

  /**
   * Runs {@code task} on every chunk of {@code length} elements, the chunks split over threads as
   * {@link #splitChunks} does, each worker with its own scratch; right after a chunk's task the
   * worker sets that chunk of {@code clear} to zero (the kernels' in-pass clearing).
   *
   * @param length number of elements
   * @param threads requested threads
   * @param scratch makes one worker's scratch
   * @param clear the segment to clear chunk by chunk, or null
   * @param task the work on one chunk
   * @param <S> the scratch type
   */
  static <S> void forEachChunk(
      long length, int threads, Supplier<S> scratch, MemorySegment clear, ChunkTask<S> task) {
    splitChunks(
        ScalarKernels.chunkCount(length),
        threads,
        (from, to) -> {
          S own = scratch.get();
          for (long c = from; c < to; c++) {
            long start = c * SquareSums.CHUNK;
            int n = ScalarKernels.chunkLength(length, start);
            task.run(start, n, own);
            Segments.clearChunk(clear, start, n);
          }
        });
  }

  /**
   * The threads a call may use: 1 when any segment is confined to a thread (only that thread may
   * touch it), else {@code threads}.
   *
   * @param threads requested threads, at least 1
   * @param segments every segment the call touches
   * @return {@code threads} or 1
   * @throws IllegalArgumentException if {@code threads < 1}
   */
  static int usable(int threads, java.lang.foreign.MemorySegment... segments) {
    checkThreads(threads);
    if (threads == 1) {
      return 1;
    }
    for (java.lang.foreign.MemorySegment segment : segments) {
      if (!segment.isAccessibleBy(PROBE)) {
        return 1;
      }
    }
    return threads;
  }

  /**
   * Refuses a thread count below 1, as {@link MatrixKernels} does: a 0 or negative count is a
   * caller's mistake, not a request for one thread.
   *
   * @param threads the requested count
   * @throws IllegalArgumentException if {@code threads < 1}
   */
  static void checkThreads(int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be >= 1, got " + threads);
    }
  }

  /** A thread that owns no segment: a segment it may access is not confined. Never started. */
  private static final Thread PROBE = Thread.ofPlatform().unstarted(() -> {});

  /** Waits for every task even when interrupted, so no worker still writes after we return. */
  private static Throwable awaitAll(List<Future<?>> futures, Throwable failure) {
    boolean interrupted = false;
    for (Future<?> future : futures) {
      while (true) {
        try {
          future.get();
          break;
        } catch (InterruptedException e) {
          interrupted = true;
        } catch (ExecutionException e) {
          if (failure == null) {
            failure = e.getCause();
          }
          break;
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    return failure;
  }

  /** Lazily created pool: class loading of the holder happens on the first parallel call. */
  private static final class Holder {
    static final ExecutorService POOL = Executors.newCachedThreadPool(new DaemonFactory());
  }

  private static final class DaemonFactory implements ThreadFactory {
    private final AtomicInteger count = new AtomicInteger();

    @Override
    public Thread newThread(Runnable r) {
      Thread t = new Thread(r, "lowbit-kernels-" + count.incrementAndGet());
      t.setDaemon(true);
      return t;
    }
  }
}
