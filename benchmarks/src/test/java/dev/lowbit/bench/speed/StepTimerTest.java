package dev.lowbit.bench.speed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The warm-up of {@code lowbit speed}'s timer does not shrink with a short {@code --millis}. */
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
}
