package dev.lowbit.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * KernelPool.split as its javadoc states it: every unit done once when it returns, a worker's
 * failure rethrown, the caller's interrupt status as it was, worker threads that do not keep
 * the JVM alive, and too little work kept on the caller's thread; usable's thread count.
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
    assertFalse(Thread.currentThread().isInterrupted(), "a parallel call must not interrupt the caller");
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
   * Sixteen ranges that sleep at once need new workers even when earlier calls left idle ones in
   * the pool, so the threads checked here were made by the pool's thread factory in this test.
   */
  @Test
  void workerThreadsAreDaemons() {
    Set<Thread> workers = ConcurrentHashMap.newKeySet();
    KernelPool.split(1000, 10, 16, (from, to) -> {
      if (from > 0) {
        workers.add(Thread.currentThread());
        sleep();
      }
    });
    assertFalse(workers.isEmpty(), "three threads asked for, so some range ran on a worker");
    for (Thread t : workers) {
      assertTrue(t.isDaemon(), t.getName() + " would keep the JVM from exiting");
      assertTrue(t.getName().startsWith("lowbit-kernels-"), t.getName());
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

  private static void sleep() {
    try {
      Thread.sleep(20);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("a worker was interrupted", e);
    }
  }
}
