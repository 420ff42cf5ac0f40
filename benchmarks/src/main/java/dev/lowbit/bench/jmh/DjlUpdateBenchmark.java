package dev.lowbit.bench.jmh;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.optimizer.Optimizer;
import dev.lowbit.djl.LowBit;
import dev.lowbit.kernels.Kernels;
import dev.lowbit.optim.Optimizers;
import java.lang.foreign.MemorySegment;
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
 * One optimizer update of a single {@code size x size} float32 weight (4096 x 4096 by default)
 * on the PyTorch engine's CPU tensors:
 *
 * <ul>
 *   <li>{@code DJL_ADAM}: DJL's built-in {@code Optimizer.adam()}, {@code update()} (its PyTorch
 *       kernel also clears the gradient);
 *   <li>{@code ADAPTER_FP32}, {@code ADAPTER_8BIT}, {@code ADAPTER_4BIT}: LowBit AdamW through the
 *       DJL adapter's {@code update()}, gradient zeroing included;
 *   <li>{@code CORE_FP32}, {@code CORE_8BIT}, {@code CORE_4BIT}: the same AdamW step straight on
 *       the core optimizer over the same tensors' own memory (no adapter, no gradient clearing):
 *       the adapter's floor.
 *   <li>{@code CORE_FP32_CLEAR}, {@code CORE_8BIT_CLEAR}, {@code CORE_4BIT_CLEAR}: the core step
 *       through {@code stepAndZero}, clearing a third tensor of the same size in the pass (what
 *       the adapter does to the weight's own gradient), so that adapter minus this is the
 *       adapter's own cost.
 * </ul>
 *
 * <p>The gradient passed to {@code update} is a separate tensor, as DJL's parameter server passes
 * one; the weight also carries a gradient of its own (from one backward pass), which the
 * optimizers clear. Scores are milliseconds per update. Run, for example:
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -Dai.djl.offline=true -cp benchmarks/target/lowbit.jar \
 *     org.openjdk.jmh.Main DjlUpdateBenchmark -rf json -rff djl-update.json
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(
    value = 1,
    jvmArgsAppend = {
      "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
      "-Dai.djl.offline=true"
    })
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class DjlUpdateBenchmark {

  /** What performs the update. */
  public enum Variant {
    /** DJL's built-in Adam. */
    DJL_ADAM,
    /** LowBit AdamW, float32 state, through the adapter. */
    ADAPTER_FP32,
    /** LowBit AdamW, 8-bit state, through the adapter. */
    ADAPTER_8BIT,
    /** LowBit AdamW, 4-bit state, through the adapter. */
    ADAPTER_4BIT,
    /** LowBit AdamW, float32 state, on the core directly. */
    CORE_FP32,
    /** LowBit AdamW, 8-bit state, on the core directly. */
    CORE_8BIT,
    /** LowBit AdamW, 4-bit state, on the core directly. */
    CORE_4BIT,
    /** LowBit AdamW, float32 state, on the core, clearing a gradient-sized tensor in the pass. */
    CORE_FP32_CLEAR,
    /** LowBit AdamW, 8-bit state, on the core, clearing a gradient-sized tensor in the pass. */
    CORE_8BIT_CLEAR,
    /** LowBit AdamW, 4-bit state, on the core, clearing a gradient-sized tensor in the pass. */
    CORE_4BIT_CLEAR
  }

  /** The implementation measured. */
  @Param({
    "DJL_ADAM", "ADAPTER_FP32", "ADAPTER_8BIT", "ADAPTER_4BIT", "CORE_FP32", "CORE_8BIT",
    "CORE_4BIT", "CORE_FP32_CLEAR", "CORE_8BIT_CLEAR", "CORE_4BIT_CLEAR"
  })
  public Variant variant;

  /** Rows and columns of the weight. */
  @Param({"4096"})
  public int size;

  private NDManager manager;
  private NDArray weight;
  private NDArray grad;
  private NDArray accumulator;
  private Optimizer djlOptimizer;
  private dev.lowbit.optim.Optimizer core;
  private MemorySegment coreGrad;
  private MemorySegment coreAccumulator;

  /** Creates the benchmark state; JMH sets the parameters, then calls {@link #setUp}. */
  public DjlUpdateBenchmark() {}

  /** Creates the weight, its gradient and the optimizer; the first update allocates the state. */
  @Setup(Level.Trial)
  public void setUp() {
    long[] shape = {size, size};
    float[] w = new float[size * size];
    float[] g = new float[size * size];
    Random random = new Random(42);
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) random.nextGaussian() * 0.02f;
      g[i] = (float) random.nextGaussian() * 1e-3f;
    }
    System.out.println("kernels: " + Kernels.get().name());
    manager = NDManager.newBaseManager("PyTorch");
    weight = manager.create(w, new Shape(shape));
    grad = manager.create(g, new Shape(shape));
    if (variant.name().startsWith("CORE_")) {
      // The tensors' own memory: the same data and the same allocations the adapter steps.
      MemorySegment coreWeight = MemorySegment.ofBuffer(weight.toByteBuffer(true));
      coreGrad = MemorySegment.ofBuffer(grad.toByteBuffer(true));
      if (variant.name().endsWith("_CLEAR")) {
        accumulator = manager.zeros(new Shape(shape));
        coreAccumulator = MemorySegment.ofBuffer(accumulator.toByteBuffer(true));
      }
      core = switch (variant) {
        case CORE_FP32, CORE_FP32_CLEAR -> Optimizers.adamW32().build();
        case CORE_8BIT, CORE_8BIT_CLEAR -> Optimizers.adamW8bit().build();
        default -> Optimizers.adamW4bit().build();
      };
      core.register("w", shape, coreWeight);
      core.step("w", coreGrad);
      return;
    }
    weight.setRequiresGradient(true);
    try (GradientCollector collector = Engine.getEngine("PyTorch").newGradientCollector()) {
      collector.backward(weight.mul(grad).sum());
    }
    djlOptimizer = switch (variant) {
      case DJL_ADAM -> Optimizer.adam().build();
      case ADAPTER_FP32 -> LowBit.adamW32().build();
      case ADAPTER_8BIT -> LowBit.adamW8bit().build();
      default -> LowBit.adamW4bit().build();
    };
    djlOptimizer.update("w", weight, grad);
  }

  /** One update of the whole weight. */
  @Benchmark
  public void update() {
    if (coreAccumulator != null) {
      core.stepAndZero("w", coreGrad, coreAccumulator);
    } else if (core != null) {
      core.step("w", coreGrad);
    } else {
      djlOptimizer.update("w", weight, grad);
    }
  }

  /** Frees the tensors and the state. */
  @TearDown(Level.Trial)
  public void tearDown() {
    if (djlOptimizer instanceof AutoCloseable closeable) {
      try {
        closeable.close();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }
    if (core != null) {
      core.close();
    }
    if (manager != null) {
      manager.close();
    }
  }
}
