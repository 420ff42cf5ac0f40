package dev.lowbit.bench.jmh;

import dev.lowbit.bench.speed.Implementation;
import dev.lowbit.bench.speed.KernelWorkload;
import dev.lowbit.bench.speed.StateKind;
import dev.lowbit.kernels.Kernels;
import dev.lowbit.kernels.OptimizerKernels;
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
 * One optimizer step over a whole tensor, per implementation, state format, optimizer, size,
 * thread count and memory kind. The score is microseconds per step; divide by {@code size} for
 * time per parameter. Run, for example:
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp benchmarks/target/lowbit.jar org.openjdk.jmh.Main \
 *     KernelBenchmark -p size=16777216 -p optimizer=ADAMW -rf json -rff kernels.json
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(
    value = 1,
    jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class KernelBenchmark {

  /** {@code SCALAR} or {@code SIMD}. */
  @Param({"SCALAR", "SIMD"})
  public String implementation;

  /** {@code FP32}, {@code 8BIT}, {@code 4BIT} or {@code 4BIT_FACTORIZED}. */
  @Param({"FP32", "8BIT", "4BIT", "4BIT_FACTORIZED"})
  public String state;

  /** {@code ADAMW} or {@code SGDM}. */
  @Param({"ADAMW", "SGDM"})
  public String optimizer;

  /** Parameters in the tensor. */
  @Param({"4096", "1048576", "16777216"})
  public int size;

  /** Worker threads passed to the kernel. */
  @Param({"1", "2"})
  public int threads;

  /** {@code HEAP} (float[] segments) or {@code NATIVE} (shared-arena segments). */
  @Param({"HEAP", "NATIVE"})
  public String memory;

  private OptimizerKernels kernels;
  private KernelWorkload workload;

  /** Creates the benchmark state; JMH sets the parameters, then calls {@link #setUp}. */
  public KernelBenchmark() {}

  /** Allocates the tensor and its state, and prints the active provider once per fork. */
  @Setup(Level.Trial)
  public void setUp() {
    Banner.printOnce();
    Implementation impl = Implementation.valueOf(implementation);
    kernels =
        impl.kernels()
            .orElseThrow(
                () -> new IllegalStateException("the " + impl + " kernels are unavailable here"));
    workload =
        KernelWorkload.create(
            KernelWorkload.Optimizer.valueOf(optimizer), StateKind.parse(state), size,
            Memory.isNative(memory));
  }

  /** One step. */
  @Benchmark
  public void step() {
    workload.step(kernels, threads);
  }

  /** Frees native memory. */
  @TearDown(Level.Trial)
  public void tearDown() {
    workload.close();
  }

  /** Prints which kernels {@code Kernels.get()} chose, once per JVM. */
  static final class Banner {
    private static boolean printed;

    private Banner() {}

    static synchronized void printOnce() {
      if (!printed) {
        printed = true;
        System.out.println(
            "# LowBit kernels: active provider " + Kernels.get().name() + ", SIMD "
                + Kernels.simd().map(OptimizerKernels::name).orElse("unavailable"));
      }
    }
  }

  /** Parses the {@code memory} parameter. */
  static final class Memory {
    private Memory() {}

    static boolean isNative(String memory) {
      return switch (memory) {
        case "HEAP" -> false;
        case "NATIVE" -> true;
        default ->
            throw new IllegalArgumentException("memory must be HEAP or NATIVE, got " + memory);
      };
    }
  }
}
