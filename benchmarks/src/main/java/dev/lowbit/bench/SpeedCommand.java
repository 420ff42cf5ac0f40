package dev.lowbit.bench;

import dev.lowbit.bench.speed.Implementation;
import dev.lowbit.bench.speed.KernelWorkload;
import dev.lowbit.bench.speed.SpeedReport;
import dev.lowbit.bench.speed.StateKind;
import dev.lowbit.bench.speed.StepTimer;
import dev.lowbit.kernels.Kernels;
import dev.lowbit.kernels.OptimizerKernels;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code lowbit speed}: quick AdamW step-time ratios of the kernels, float32 vs 8-bit vs 4-bit,
 * SIMD vs scalar, 1 vs 2 threads, with a float-copy bandwidth baseline. A short warmed-up timing
 * loop (well under a minute); the full measurement is the JMH suite ({@code KernelBenchmark}).
 */
@Command(
    name = "speed",
    mixinStandardHelpOptions = true,
    description = {
      "Quick step-time ratios of the optimizer kernels (the full measurement is the JMH suite).",
      "Times one AdamW step per state format (fp32, 8bit, 4bit, 4bit-factorized), implementation"
          + " (simd when available, scalar) and thread count (1, 2), and a float copy of the same"
          + " size."
    })
public final class SpeedCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = "--json", description = "Print the result as one JSON object.")
  boolean json;

  @Option(
      names = "--params",
      paramLabel = "N",
      description = "Parameters in the timed tensor (default: ${DEFAULT-VALUE}).")
  int params = 1 << 22;

  @Option(
      names = "--millis",
      paramLabel = "MS",
      description = "Measuring time per variant in milliseconds (default: ${DEFAULT-VALUE}).")
  int millis = 400;

  /**
   * Elements of the small tensor used to get each kernel compiled before timing (two 4096-element
   * chunks, so that 2 threads split it).
   */
  private static final int WARM_UP_SIZE = 8192;

  /**
   * The fewest steps on the small tensor per implementation and thread count: enough calls and
   * loop iterations for the JIT's optimizing compiler, however slow the uncompiled step is (a time
   * alone is not: an interpreted Vector API step can take a millisecond per 4096 elements).
   */
  private static final int WARM_UP_STEPS = 3000;

  /**
   * Heap bytes per parameter of the largest workload: parameters, gradients and float32 m and v;
   * the copy baseline's two float arrays, allocated after the workloads are freed, need less.
   */
  private static final long BYTES_PER_PARAM = 16;

  /**
   * Heap the rest of the run needs besides the workload. The workload's arrays alone in the whole
   * heap ran out of it (-Xmx1g, 99.8% of it); with 16 MiB left over, -Xmx256m ran. Twice that.
   */
  private static final long RESERVED_HEAP = 32L << 20;

  /** Creates the command; picocli sets its options from the command line. */
  public SpeedCommand() {}

  /**
   * Compiles every implementation's loops for this state on a small tensor (both thread paths):
   * at least {@link #WARM_UP_STEPS} steps and 300 ms (1 thread), 200 ms (2 threads).
   */
  private static void warmUp(StateKind state) {
    try (KernelWorkload small =
        KernelWorkload.create(KernelWorkload.Optimizer.ADAMW, state, WARM_UP_SIZE, false)) {
      for (Implementation impl : Implementation.values()) {
        impl.kernels()
            .ifPresent(
                k -> {
                  StepTimer.runFor(() -> small.step(k, 1), WARM_UP_STEPS, 300);
                  StepTimer.runFor(() -> small.step(k, 2), WARM_UP_STEPS, 200);
                });
      }
    }
  }

  @Override
  public Integer call() {
    if (params < 4096) {
      throw new ParameterException(
          spec.commandLine(), "--params must be at least 4096, got " + params);
    }
    long heap = Runtime.getRuntime().maxMemory();
    long need = BYTES_PER_PARAM * params + RESERVED_HEAP;
    if (need > heap) {
      throw new ParameterException(
          spec.commandLine(),
          String.format(
              java.util.Locale.ROOT,
              "--params %,d needs about %,d MiB of heap (%d bytes per parameter and %d MiB"
                  + " besides), more than the maximum heap of %,d MiB (use fewer or raise -Xmx)",
              params,
              need >> 20,
              BYTES_PER_PARAM,
              RESERVED_HEAP >> 20,
              heap >> 20));
    }
    if (millis < 1) {
      throw new ParameterException(spec.commandLine(), "--millis must be positive, got " + millis);
    }
    StepTimer timer = StepTimer.forMeasuring(millis);
    List<SpeedReport.Result> results = new ArrayList<>();
    for (StateKind state : StateKind.values()) {
      warmUp(state);
      try (KernelWorkload workload =
          KernelWorkload.create(KernelWorkload.Optimizer.ADAMW, state, params, false)) {
        for (Implementation impl : List.of(Implementation.SIMD, Implementation.SCALAR)) {
          Optional<OptimizerKernels> kernels = impl.kernels();
          if (kernels.isEmpty()) {
            continue;
          }
          for (int threads = 1; threads <= 2; threads++) {
            int t = threads;
            double nanos = timer.medianNanos(() -> workload.step(kernels.get(), t));
            results.add(new SpeedReport.Result(state, impl, threads, nanos / params));
          }
        }
      }
    }
    SpeedReport report =
        new SpeedReport(params, results, timer.copyNanosPerFloat(params), Kernels.get().name());
    PrintWriter out = spec.commandLine().getOut();
    out.println(json ? report.toJson() : report.toText());
    out.flush();
    return 0;
  }
}
