package dev.lowbit.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * KernelPool.split as its javadoc states it: every unit done once when it returns, a worker's
 * failure rethrown, the caller's interrupt status as it was, worker threads that do not keep
 * the JVM alive, and too little work kept on the caller's thread (and enough split, at the
 * equality tests' split length); usable's thread count.
 */
class KernelPoolTest {

  @Test
  void everyUnitIsDoneOnceBeforeSplitReturns() {
    AtomicLong sum = new AtomicLong();
    AtomicLong count = new AtomicLong();
    KernelPool.split(1000, 10, 3, (from, to) -> {
      sleep();
      for (long u = from; u < to; u++) {
        sum.addAndGet(u);
        count.incrementAndGet();
      }
    });
    assertEquals(1000, count.get());
    assertEquals(999L * 1000 / 2, sum.get());
  }

  @Test
  void aWorkersFailureIsRethrownToTheCaller() {
    IllegalStateException boom = new IllegalStateException("worker failed");
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> KernelPool.split(1000, 10, 3, (from, to) -> {
          if (from > 0) {
            throw boom;
          }
        }));
    assertSame(boom, e);
    // An Error on a worker is rethrown as itself too.
    AssertionError error = new AssertionError("worker error");
    assertSame(error, assertThrows(AssertionError.class,
        () -> KernelPool.split(1000, 10, 2, (from, to) -> {
          if (from > 0) {
            throw error;
          }
        })));
  }

  @Test
  void theCallersInterruptStatusIsKept() {
    KernelPool.split(1000, 10, 3, (from, to) -> sleep());
    assertFalse(
        Thread.currentThread().isInterrupted(), "a parallel call must not interrupt the caller");
    AtomicLong count = new AtomicLong();
    Thread.currentThread().interrupt();
    try {
      KernelPool.split(1000, 10, 3, (from, to) -> {
        if (from > 0) {
          sleep();
        }
        count.addAndGet(to - from);
      });
      assertTrue(Thread.currentThread().isInterrupted(), "an interrupt that came in is restored");
      assertEquals(1000, count.get(), "and the call still waited for every worker");
    } finally {
      Thread.interrupted();
    }
  }

  /**
   * The pool's thread factory, seen through threads it makes during this test: daemons (a worker
   * never keeps the JVM alive) named {@code lowbit-kernels-N}. Idle workers left by earlier calls
   * (earlier tests, or under PIT earlier mutants in the same JVM) would be reused instead, so the
   * call asks for one range more than there are live workers and holds every range until all have
   * started: at least one runs on a new thread. The call is made from a non-daemon thread, because
   * a new thread inherits its creator's daemon flag unless the factory sets it.
   */
  @Test
  void threadsTheWorkerPoolMakesAreNamedDaemons() throws InterruptedException {
    Set<Thread> existing = Thread.getAllStackTraces().keySet();
    long workers = existing.stream().filter(t -> t.getName().startsWith(WORKER_PREFIX)).count();
    int ranges = Math.toIntExact(workers + 2);
    CyclicBarrier allStarted = new CyclicBarrier(ranges);
    Set<Thread> ranOn = ConcurrentHashMap.newKeySet();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread caller = Thread.ofPlatform().daemon(false).unstarted(() -> {
      try {
        KernelPool.split(ranges, 1, ranges, (from, to) -> {
          ranOn.add(Thread.currentThread());
          awaitAll(allStarted);
        });
      } catch (RuntimeException | Error e) {
        failure.set(e);
      }
    });
    caller.start();
    caller.join();
    if (failure.get() != null) {
      throw new AssertionError("the split call failed", failure.get());
    }
    assertEquals(ranges, ranOn.size(), "every range on a thread of its own");
    ranOn.remove(caller);
    ranOn.removeAll(existing);
    assertFalse(ranOn.isEmpty(), "more ranges than workers, so the pool made a thread");
    for (Thread t : ranOn) {
      assertTrue(t.isDaemon(), t.getName() + " would keep the JVM from exiting");
      assertTrue(t.getName().matches(WORKER_PREFIX + "[1-9][0-9]*"), t.getName());
    }
  }

  /**
   * Too little work for a second range (fewer than twice the smallest range's units) runs whole
   * on the caller's thread; twice that is split in two, whatever the threads asked for beyond.
   */
  @Test
  void littleWorkRunsOnTheCallersThreadAsOneRange() {
    List<String> ranges = Collections.synchronizedList(new ArrayList<>());
    Set<Thread> threads = ConcurrentHashMap.newKeySet();
    KernelPool.split(15, 8, 3, (from, to) -> {
      ranges.add(from + "-" + to);
      threads.add(Thread.currentThread());
    });
    assertEquals(List.of("0-15"), ranges);
    assertEquals(Set.of(Thread.currentThread()), threads);
    ranges.clear();
    KernelPool.split(16, 8, 3, (from, to) -> ranges.add(from + "-" + to));
    assertEquals(List.of("0-8", "8-16"), ranges.stream().sorted().toList());
  }

  /**
   * The length the equality tests use to run kernels on two threads
   * ({@link SimdKernelsEqualityTest#SPLIT_LENGTH}) is split by the chunk loop: the caller's range
   * starts at the first chunk and a worker's range ends at the last, a partial chunk. (A call of
   * fewer than twice {@link KernelPool#MIN_CHUNKS_PER_TASK} chunks runs on the caller's thread
   * alone, whatever the threads asked for.)
   */
  @Test
  void theEqualityTestsSplitLengthRunsOnTwoThreads() {
    long length = SimdKernelsEqualityTest.SPLIT_LENGTH;
    Map<Long, Thread> threadOfChunk = new ConcurrentHashMap<>();
    Map<Long, Integer> lengthOfChunk = new ConcurrentHashMap<>();
    KernelPool.forEachChunk(length, 2, () -> null, null, (start, n, scratch) -> {
      threadOfChunk.put(start, Thread.currentThread());
      lengthOfChunk.put(start, n);
    });
    long last = (length - 1) / SquareSums.CHUNK * SquareSums.CHUNK;
    assertEquals(last / SquareSums.CHUNK + 1, threadOfChunk.size(), "every chunk ran");
    assertSame(Thread.currentThread(), threadOfChunk.get(0L), "the first on the caller's thread");
    assertNotSame(Thread.currentThread(), threadOfChunk.get(last), "the last on a worker");
    assertEquals(2, new HashSet<>(threadOfChunk.values()).size(), "two threads");
    int tail = lengthOfChunk.get(last);
    assertTrue(tail > 0 && tail < SquareSums.CHUNK, "the last chunk is partial: " + tail);
  }

  /**
   * The threads a kernel call may use: those asked for when every segment may be touched from
   * any thread (heap, shared arena), 1 as soon as one is confined to the caller's thread.
   */
  @Test
  void usableThreadsAreTheRequestedOnesUnlessASegmentIsConfined() {
    MemorySegment heap = MemorySegment.ofArray(new float[4]);
    try (Arena shared = Arena.ofShared(); Arena confined = Arena.ofConfined()) {
      assertEquals(3, KernelPool.usable(3, heap, shared.allocate(16)));
      assertEquals(1, KernelPool.usable(3, heap, confined.allocate(16), shared.allocate(16)));
      assertEquals(1, KernelPool.usable(1, heap));
    }
  }

  /** Prefix of the worker threads' names. */
  private static final String WORKER_PREFIX = "lowbit-kernels-";

  /** Waits until every range has reached the barrier; a range that never comes fails the call. */
  private static void awaitAll(CyclicBarrier barrier) {
    try {
      barrier.await(30, TimeUnit.SECONDS);
    } catch (InterruptedException | BrokenBarrierException | TimeoutException e) {
      throw new AssertionError("not every range started", e);
    }
  }

  private static void sleep() {
    try {
      Thread.sleep(20);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("a worker was interrupted", e);
    }
  }
}
