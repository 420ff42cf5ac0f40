package dev.lowbit.bench.shampoo;

import dev.lowbit.optim.Optimizer;
import dev.lowbit.optim.Optimizers;
import dev.lowbit.optim.shampoo.Shampoo;
import dev.lowbit.optim.shampoo.ShampooPrecision;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Step time of Shampoo on a 1024 x 1024 weight (one block per side; {@code -p size=N} for
 * another), 32-bit vs 4-bit, against plain AdamW. A real schedule (T1 = 100, T2 = 500) spends
 * 499 of 500 steps without a root update, so one JMH invocation cannot hold a representative mix;
 * instead each phase is its own {@code phase}:
 *
 * <ul>
 *   <li>{@code STEP}: precondition with the stored roots, graft, base step (T1 = T2 = never);
 *   <li>{@code STATISTICS}: the same plus a statistics update every step (T1 = 1);
 *   <li>{@code ROOTS}: the same plus statistics and roots every step (T1 = T2 = 1).
 * </ul>
 * The amortized step at (T1, T2) is {@code STEP + (STATISTICS - STEP) / T1 + (ROOTS -
 * STATISTICS) / T2}, computed from one run's scores (docs/benchmarks.md). The base optimizer is
 * float32 AdamW with one thread (EJML's products are single-threaded too); {@code adamW} is
 * that base alone. Run:
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp benchmarks/target/lowbit.jar org.openjdk.jmh.Main \
 *     ShampooBenchmark -rf json -rff shampoo.json
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(
    value = 1,
    jvmArgsAppend = {
      "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx4g"
    })
public class ShampooBenchmark {

  /** Distinct gradients cycled through, so statistics see changing data. */
  static final int GRADIENTS = 4;

  /** Creates the benchmark; JMH creates the workloads it takes as arguments. */
  public ShampooBenchmark() {}

  /** A weight, its gradients and an optimizer over it. */
  abstract static class Workload {
    Optimizer opt;
    float[][] grads;
    int next;

    void create(Optimizer optimizer, int size) {
      Random random = new Random(1);
      grads = new float[GRADIENTS][size * size];
      for (float[] g : grads) {
        for (int i = 0; i < g.length; i++) {
          g[i] = (float) random.nextGaussian();
        }
      }
      float[] w = new float[size * size];
      for (int i = 0; i < w.length; i++) {
        w[i] = (float) (0.02 * random.nextGaussian());
      }
      opt = optimizer;
      opt.register("w", new long[] {size, size}, w);
    }

    Optimizer step() {
      opt.step("w", grads[next]);
      next = (next + 1) % GRADIENTS;
      return opt;
    }

    /** Frees the state. */
    @TearDown(Level.Trial)
    public void tearDown() {
      opt.close();
    }
  }

  static Optimizer adamW() {
    return Optimizers.adamW32().learningRate(1e-4f).threads(1).build();
  }

  /** Plain float32 AdamW, one thread: the baseline. */
  @State(Scope.Benchmark)
  public static class AdamWWorkload extends Workload {

    /** Rows and columns of the weight. */
    @Param({"1024"})
    public int size;

    /** Creates the workload; JMH then calls {@link #setUp}. */
    public AdamWWorkload() {}

    /** Builds AdamW and registers the weight. */
    @Setup(Level.Trial)
    public void setUp() {
      create(adamW(), size);
    }
  }

  /** Shampoo over float32 AdamW, with the intervals that isolate one phase. */
  @State(Scope.Benchmark)
  public static class ShampooWorkload extends Workload {

    /** Rows and columns of the weight (one block per side up to 1200). */
    @Param({"1024"})
    public int size;

    /** {@code FP32} or {@code FOUR_BIT}. */
    @Param({"FP32", "FOUR_BIT"})
    public String precision;

    /** Which part of a step is measured; a value that is no {@link Phase} is refused by JMH. */
    @Param({"STEP", "STATISTICS", "ROOTS"})
    public Phase phase;

    /** Creates the workload; JMH sets the parameters, then calls {@link #setUp}. */
    public ShampooWorkload() {}

    /** Builds Shampoo, registers the weight and fills the statistics with two steps. */
    @Setup(Level.Trial)
    public void setUp() {
      int never = Integer.MAX_VALUE;
      create(
          Shampoo.builder(adamW())
              .precision(ShampooPrecision.valueOf(precision))
              .statisticsInterval(phase == Phase.STEP ? never : 1)
              .inverseRootInterval(phase == Phase.ROOTS ? 1 : never)
              .build(),
          size);
      // Non-trivial statistics and roots before measuring (a real run has them too).
      if (phase != Phase.STEP) {
        step();
        step();
      }
    }
  }

  /** The part of a Shampoo step a workload isolates (see the class javadoc). */
  public enum Phase {
    /** Precondition with the stored roots, graft, base step. */
    STEP,
    /** {@link #STEP} plus a statistics update. */
    STATISTICS,
    /** {@link #STATISTICS} plus the inverse roots. */
    ROOTS
  }

  /**
   * One AdamW step (fast: more, shorter iterations).
   *
   * @param w the workload
   * @return the optimizer (so the step cannot be eliminated)
   */
  @Benchmark
  @Warmup(iterations = 5, time = 1)
  @Measurement(iterations = 5, time = 1)
  public Optimizer adamW(AdamWWorkload w) {
    return w.step();
  }

  /**
   * One Shampoo step of the chosen phase (seconds per step: few, long iterations).
   *
   * @param w the workload
   * @return the optimizer (so the step cannot be eliminated)
   */
  @Benchmark
  @Warmup(iterations = 1, time = 2)
  @Measurement(iterations = 3, time = 2)
  public Optimizer shampoo(ShampooWorkload w) {
    return w.step();
  }
}
