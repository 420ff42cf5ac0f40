package dev.lowbit.bench.speed;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * A quick warmed-up timing loop for {@code lowbit speed}: not JMH (that is the full measurement),
 * but enough for ratios at a glance. Runs an action until a warm-up time has passed, then times
 * single runs until a measurement time has passed, and returns the median.
 */
public final class StepTimer {

  /**
   * The shortest warm-up {@link #forMeasuring} gives each timed action, in milliseconds: enough
   * for the JIT to have compiled the step on the timed tensor, whatever the measuring time.
   */
  public static final long MIN_WARMUP_MILLIS = 300;

  private final long warmupNanos;
  private final long measureNanos;
  private final int minRuns;

  /**
   * Creates a timer.
   *
   * @param warmupMillis time spent warming up (at least {@code minRuns} runs)
   * @param measureMillis time spent measuring (at least {@code minRuns} runs)
   * @param minRuns the fewest runs in each phase
   */
  public StepTimer(long warmupMillis, long measureMillis, int minRuns) {
    this.warmupNanos = warmupMillis * 1_000_000;
    this.measureNanos = measureMillis * 1_000_000;
    this.minRuns = minRuns;
  }

  /**
   * The timer {@code lowbit speed} uses: warms each action up for half the measuring time but at
   * least {@link #MIN_WARMUP_MILLIS}, then measures for {@code measureMillis}, at least two runs
   * in each phase. (With a warm-up of half a short measuring time, the first variants were timed
   * while still partly interpreted.)
   *
   * @param measureMillis time spent measuring each action
   * @return the timer
   */
  public static StepTimer forMeasuring(long measureMillis) {
    return new StepTimer(Math.max(MIN_WARMUP_MILLIS, measureMillis / 2), measureMillis, 2);
  }

  /**
   * The warm-up time.
   *
   * @return milliseconds spent warming up each action (besides the minimum number of runs)
   */
  public long warmupMillis() {
    return warmupNanos / 1_000_000;
  }

  /**
   * The median time of one run of {@code action}, in nanoseconds.
   *
   * @param action the work to time
   * @return median nanoseconds per run
   */
  public double medianNanos(Runnable action) {
    long start = System.nanoTime();
    for (int runs = 0; runs < minRuns || System.nanoTime() - start < warmupNanos; runs++) {
      action.run();
    }
    long[] times = new long[16];
    int count = 0;
    start = System.nanoTime();
    while (count < minRuns || System.nanoTime() - start < measureNanos) {
      long t0 = System.nanoTime();
      action.run();
      long t = System.nanoTime() - t0;
      if (count == times.length) {
        times = Arrays.copyOf(times, count * 2);
      }
      times[count++] = t;
    }
    return median(Arrays.copyOf(times, count));
  }

  /** The median of at least one time (the mean of the middle two for an even count). */
  static double median(long[] times) {
    long[] sorted = times.clone();
    Arrays.sort(sorted);
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0;
  }

  /**
   * Runs {@code action} at least {@code minRuns} times and for at least {@code millis}
   * milliseconds: used on a small tensor to get the hot loops compiled cheaply before a large
   * tensor is timed (a large step is too slow to be repeated the thousands of times the JIT
   * needs).
   *
   * @param action the work
   * @param minRuns the fewest runs
   * @param millis the shortest time
   */
  public static void runFor(Runnable action, int minRuns, long millis) {
    long start = System.nanoTime();
    for (int runs = 0; runs < minRuns || System.nanoTime() - start < millis * 1_000_000; runs++) {
      action.run();
    }
  }

  /**
   * Nanoseconds per float of a plain copy of {@code size} floats: the bandwidth baseline.
   *
   * @param size floats to copy
   * @return median nanoseconds per float
   */
  public double copyNanosPerFloat(int size) {
    MemorySegment source = MemorySegment.ofArray(new float[size]);
    MemorySegment target = MemorySegment.ofArray(new float[size]);
    source.fill((byte) 1);
    return medianNanos(() -> MemorySegment.copy(source, 0, target, 0, size * 4L)) / size;
  }
}
