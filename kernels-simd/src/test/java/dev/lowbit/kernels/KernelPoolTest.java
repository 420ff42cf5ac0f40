package dev.lowbit.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * KernelPool.split as its javadoc states it: every unit done once when it returns, a worker's
 * failure rethrown, the caller's interrupt status as it was, and worker threads that do not keep
 * the JVM alive.
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

  @Test
  void workerThreadsAreDaemons() {
    Set<Thread> workers = ConcurrentHashMap.newKeySet();
    KernelPool.split(1000, 10, 3, (from, to) -> {
      if (from > 0) {
        workers.add(Thread.currentThread());
      }
    });
    assertFalse(workers.isEmpty(), "three threads asked for, so some range ran on a worker");
    for (Thread t : workers) {
      assertTrue(t.isDaemon(), t.getName() + " would keep the JVM from exiting");
      assertTrue(t.getName().startsWith("lowbit-kernels-"), t.getName());
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
