package dev.lowbit.bench.speed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * {@code lowbit speed}'s timer: its warm-up does not shrink with a short {@code --millis}, each
 * phase runs its minimum count and lasts its time, and it reports the median run. Timing bounds
 * are one-sided or bounded by the call's own duration, so load cannot make them fail.
 */
class StepTimerTest {

  @Test
  void aShortMeasuringTimeStillGetsTheMinimumWarmUp() {
    assertEquals(StepTimer.MIN_WARMUP_MILLIS, StepTimer.forMeasuring(10).warmupMillis());
    assertEquals(StepTimer.MIN_WARMUP_MILLIS, StepTimer.forMeasuring(1).warmupMillis());
    assertEquals(1000, StepTimer.forMeasuring(2000).warmupMillis());
  }

  @Test
  void theWarmUpRunsForItsTimeBeforeMeasuring() {
    AtomicInteger runs = new AtomicInteger();
    long start = System.nanoTime();
    StepTimer.forMeasuring(2).medianNanos(runs::incrementAndGet);
    long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
    assertTrue(elapsedMillis >= StepTimer.MIN_WARMUP_MILLIS, elapsedMillis + " ms");
    assertTrue(runs.get() > 4, runs + " runs");
  }

  @Test
  void theMedianIsTheMiddleTimeOrTheMeanOfTheMiddleTwo() {
    assertEquals(7.0, StepTimer.median(new long[] {7}));
    assertEquals(3.0, StepTimer.median(new long[] {5, 1, 3}));
    assertEquals(1.5, StepTimer.median(new long[] {2, 1}));
    assertEquals(2.5, StepTimer.median(new long[] {4, 1, 3, 2}));
    long[] times = {4, 1, 3};
    StepTimer.median(times);
    assertArrayEquals(new long[] {4, 1, 3}, times, "the caller's array is left unsorted");
  }

  /** With no time to fill, warm-up and measurement each run exactly the minimum count. */
  @Test
  void withoutTimeEachPhaseRunsItsMinimumCount() {
    AtomicInteger runs = new AtomicInteger();
    new StepTimer(0, 0, 3).medianNanos(runs::incrementAndGet);
    assertEquals(6, runs.get());
    runs.set(0);
    StepTimer.runFor(runs::incrementAndGet, 3, 0);
    assertEquals(3, runs.get());
  }

  @Test
  void measuringAndRunForLastTheirTime() {
    long start = System.nanoTime();
    new StepTimer(0, 50, 1).medianNanos(() -> {});
    assertTrue(System.nanoTime() - start >= 50_000_000L, "measured for 50 ms");
    start = System.nanoTime();
    StepTimer.runFor(() -> {}, 1, 30);
    assertTrue(System.nanoTime() - start >= 30_000_000L, "ran for 30 ms");
  }

  /** A run that sleeps 2 ms has a median of at least 2 ms and at most the whole call's time. */
  @Test
  void theMedianIsTheTimeOfOneRun() {
    long start = System.nanoTime();
    double median = new StepTimer(0, 0, 3).medianNanos(StepTimerTest::sleep2ms);
    long call = System.nanoTime() - start;
    assertTrue(median >= 2_000_000L && median <= call, median + " ns of a " + call + " ns call");
  }

  /** The copy baseline is per float: positive, and at most the whole call's time per float. */
  @Test
  void theCopyBaselineIsPerFloat() {
    int size = 1 << 20;
    long start = System.nanoTime();
    double perFloat = new StepTimer(0, 0, 1).copyNanosPerFloat(size);
    long call = System.nanoTime() - start;
    assertTrue(perFloat > 0 && perFloat <= (double) call / size, perFloat + " ns per float");
  }

  private static void sleep2ms() {
    try {
      Thread.sleep(2); // never returns early, unlike LockSupport.parkNanos
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }
}
