package dev.lowbit.kernels;

import dev.lowbit.quant.CodeBook;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * A quick, JMH-free timing loop for iterating on the SIMD kernels (not a test, asserts nothing;
 * the project's measurements come from the JMH suite in {@code benchmarks}). Prints ns per
 * parameter of one AdamW step for each state format, implementation and thread count, plus the
 * ratios the targets are about, all from one run.
 *
 * <p>Run after {@code mvn -pl kernels-simd test-compile}:
 * <pre>
 * java --add-modules jdk.incubator.vector -cp kernels-simd/target/classes:kernels-simd/target/test-classes:QUANT_JAR \
 *   dev.lowbit.kernels.SimdTimingHarness [log2 size] [repetitions]
 * </pre>
 */
public final class SimdTimingHarness {

  private SimdTimingHarness() {}

  /**
   * Runs the timings.
   *
   * @param args optional log2 of the tensor size (default 24), timed repetitions (default 15) and
   *     a comma-separated list of formats (default all: fp32,8bit,4bit,4bit-factorized)
   */
  public static void main(String[] args) {
    int log2 = args.length > 0 ? Integer.parseInt(args[0]) : 24;
    int reps = args.length > 1 ? Integer.parseInt(args[1]) : 15;
    int n = 1 << log2;
    int rows = 1 << (log2 / 2);
    int cols = n / rows;
    Arena arena = Arena.ofShared();
    SplittableRandom random = new SplittableRandom(1);
    MemorySegment param = randomFloats(arena, n, random, 1.0);
    MemorySegment grad = randomFloats(arena, n, random, 0.01);
    AdamScalars s =
        new AdamScalars(0.9f, 0.999f, 1e-3f / 0.1f, 1f / (float) Math.sqrt(0.001f), 1e-8f, 1e-5f,
            0f, 1f, 0f);
    OptimizerKernels simd = new SimdKernels();
    OptimizerKernels scalar = new ScalarKernels();
    System.out.printf(Locale.ROOT, "%s, n = 2^%d, %d reps, ns/param (1 thread: mean process CPU time; 2 threads: median wall time)%n", simd.name(), log2, reps);
    String[] formats =
        args.length > 2 ? args[2].split(",") : new String[] {"fp32", "8bit", "4bit", "4bit-factorized"};
    double[][] simdTimes = new double[formats.length][3];
    for (int f = 0; f < formats.length; f++) {
      MomentState[] state = state(formats[f], arena, n, rows, cols);
      for (int threads = 1; threads <= 2; threads++) {
        simdTimes[f][threads] = time(simd, s, param, grad, n, state, threads, reps);
        System.out.printf(Locale.ROOT, "simd   %-16s threads %d: %.3f%n", formats[f], threads,
            simdTimes[f][threads]);
      }
      double scalarTime = time(scalar, s, param, grad, n, state, 1, Math.max(3, reps / 5));
      System.out.printf(Locale.ROOT, "scalar %-16s threads 1: %.3f   (simd speed-up %.2fx)%n",
          formats[f], scalarTime, scalarTime / simdTimes[f][1]);
    }
    for (int f = 1; f < formats.length && formats[0].equals("fp32"); f++) {
      System.out.printf(Locale.ROOT,
          "%-16s / fp32: 1 thread %.3f, 2 threads %.3f (of fp32 at 1 thread %.3f); 2-thread speed-up %.2fx%n",
          formats[f], simdTimes[f][1] / simdTimes[0][1], simdTimes[f][2] / simdTimes[0][2],
          simdTimes[f][2] / simdTimes[0][1], simdTimes[f][1] / simdTimes[f][2]);
    }
  }

  private static double time(
      OptimizerKernels k, AdamScalars s, MemorySegment param, MemorySegment grad, int n,
      MomentState[] state, int threads, int reps) {
    for (int i = 0; i < 5; i++) {
      k.adam(s, param, grad, n, state[0], state[1], threads);
    }
    if (threads == 1) {
      // One thread runs on the caller: the process's CPU time (after warm-up nearly all of it
      // this thread) is far less disturbed by other jobs on a shared machine than wall time.
      // Its clock ticks are coarse, so time the whole batch and take the mean.
      long start = cpuNanos();
      for (int i = 0; i < reps; i++) {
        k.adam(s, param, grad, n, state[0], state[1], threads);
      }
      return (cpuNanos() - start) / ((double) n * reps);
    }
    double[] t = new double[reps];
    for (int i = 0; i < reps; i++) {
      long start = System.nanoTime();
      k.adam(s, param, grad, n, state[0], state[1], threads);
      t[i] = (System.nanoTime() - start) / (double) n;
    }
    java.util.Arrays.sort(t);
    return t[reps / 2];
  }

  private static long cpuNanos() {
    return ProcessHandle.current().info().totalCpuDuration().orElseThrow().toNanos();
  }

  private static MomentState[] state(String format, Arena arena, int n, int rows, int cols) {
    return switch (format) {
      case "fp32" ->
          new MomentState[] {
            new Fp32Moment(arena.allocate(4L * n, 64)), new Fp32Moment(arena.allocate(4L * n, 64))
          };
      case "8bit" ->
          new MomentState[] {
            blockwise(arena, CodeBook.DYNAMIC_SIGNED_8, 256, n),
            blockwise(arena, CodeBook.DYNAMIC_UNSIGNED_8, 256, n)
          };
      case "4bit" ->
          new MomentState[] {
            blockwise(arena, CodeBook.DE_SIGNED_4, 128, n),
            new Rank1Moment(CodeBook.LINEAR_4, rows, cols, arena.allocate(n / 2, 64),
                arena.allocate(4L * rows, 64), arena.allocate(4L * cols, 64))
          };
      default ->
          new MomentState[] {
            blockwise(arena, CodeBook.DE_SIGNED_4, 128, n),
            new FactorizedMoment(1, rows, cols, arena.allocate(4L * rows, 64),
                arena.allocate(4L * cols, 64))
          };
    };
  }

  private static BlockwiseMoment blockwise(Arena arena, CodeBook book, int blockSize, int n) {
    long bytes = book.bits() == 8 ? n : n / 2;
    return new BlockwiseMoment(book, blockSize, arena.allocate(bytes, 64),
        arena.allocate(4L * (n / blockSize), 64));
  }

  private static MemorySegment randomFloats(Arena arena, int n, SplittableRandom random, double sd) {
    MemorySegment seg = arena.allocate(4L * n, 64);
    for (int i = 0; i < n; i++) {
      seg.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (random.nextGaussian() * sd));
    }
    return seg;
  }
}
