package dev.lowbit.bench.jmh;

import dev.lowbit.bench.speed.Implementation;
import dev.lowbit.bench.speed.KernelWorkload;
import dev.lowbit.bench.speed.StateKind;
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
 * The cost of the non-finite gradient check that precedes every step ({@code firstNonFinite} over
 * an all-finite gradient, the common case), measured apart from the step so it can be compared
 * with {@link KernelBenchmark}'s step time of the same size. Microseconds per check.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(
    value = 1,
    jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class NonFiniteCheckBenchmark {

  /** {@code SCALAR} or {@code SIMD}. */
  @Param({"SCALAR", "SIMD"})
  public String implementation;

  /** Floats checked. */
  @Param({"4096", "1048576", "16777216"})
  public int size;

  /** {@code HEAP} or {@code NATIVE}. */
  @Param({"HEAP", "NATIVE"})
  public String memory;

  private OptimizerKernels kernels;
  private KernelWorkload workload;

  /** Creates the benchmark state; JMH sets the parameters, then calls {@link #setUp}. */
  public NonFiniteCheckBenchmark() {}

  /** Allocates a finite gradient. */
  @Setup(Level.Trial)
  public void setUp() {
    KernelBenchmark.Banner.printOnce();
    Implementation impl = Implementation.valueOf(implementation);
    kernels =
        impl.kernels()
            .orElseThrow(
                () -> new IllegalStateException("the " + impl + " kernels are unavailable here"));
    workload =
        KernelWorkload.create(
            KernelWorkload.Optimizer.SGDM, StateKind.FP32, size,
            KernelBenchmark.Memory.isNative(memory));
  }

  /**
   * One check.
   *
   * @return the first bad index (-1), so the scan is not dead code
   */
  @Benchmark
  public long check() {
    return kernels.firstNonFinite(workload.gradient(), workload.size());
  }

  /** Frees native memory. */
  @TearDown(Level.Trial)
  public void tearDown() {
    workload.close();
  }
}
