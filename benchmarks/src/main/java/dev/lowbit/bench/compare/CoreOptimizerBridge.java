package dev.lowbit.bench.compare;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.training.optimizer.Optimizer;
import java.util.HashMap;
import java.util.Map;

/**
 * Lets DJL's {@code Trainer} drive any core LowBit optimizer (used for Shampoo, which the DJL
 * adapter {@code dev.lowbit.djl.LowBit} has no factory for yet) by copying: each update copies
 * the weight and gradient into float arrays, steps the core optimizer, writes the weight back by
 * indexed assignment and zeroes the parameter's gradient (PyTorch adds each backward pass to it).
 *
 * <p>This is the simple, always-correct path, not the adapter's zero-copy one, so its update
 * time includes two copies of every tensor; the comparison's accuracy and state memory are
 * unaffected. Parameters are registered with the core under DJL's parameter id on first update.
 */
final class CoreOptimizerBridge extends Optimizer implements AutoCloseable {

  private static final NDIndex ALL = new NDIndex("...");

  private final dev.lowbit.optim.Optimizer core;
  private final Map<String, float[]> weights = new HashMap<>();

  /**
   * Wraps a core optimizer; the bridge owns it from now on and closes it.
   *
   * @param core a freshly built core optimizer with no parameters
   */
  CoreOptimizerBridge(dev.lowbit.optim.Optimizer core) {
    super(new Builder());
    this.core = core;
  }

  @Override
  public synchronized void update(String parameterId, NDArray weight, NDArray grad) {
    float[] values = weights.get(parameterId);
    if (values == null) {
      values = weight.toFloatArray();
      core.register(parameterId, weight.getShape().getShape(), values);
      weights.put(parameterId, values);
    } else {
      // Someone else (DJL, a checkpoint load) may have written the weight since our last step.
      System.arraycopy(weight.toFloatArray(), 0, values, 0, values.length);
    }
    core.step(parameterId, grad.toFloatArray());
    try (NDManager scratch = weight.getManager().newSubManager()) {
      // Indexed assignment writes into the tensor's own storage; NDArray.set(float[]) may
      // replace the storage instead, cutting the tensor off from the model's parameter.
      weight.set(ALL, scratch.create(values, weight.getShape()));
      if (weight.hasGradient()) {
        weight.getGradient().set(ALL, 0f);
      }
    }
  }

  /**
   * The core optimizer's exact state bytes.
   *
   * @return {@code core.stateBytes()}
   */
  long stateBytes() {
    return core.stateBytes();
  }

  @Override
  public synchronized void close() {
    core.close();
  }

  /** DJL's optimizers need a builder; the bridge takes all its settings from the core. */
  private static final class Builder extends OptimizerBuilder<Builder> {
    @Override
    protected Builder self() {
      return this;
    }
  }
}
