package dev.lowbit.bench.memory;

import java.util.OptionalLong;

/** Measures an optimizer's real state for a model by allocating it. */
public interface StateMeasurer {

  /**
   * Allocates the optimizer's state for every tensor of the model and reads its size.
   *
   * @param optimizer the optimizer's stable name
   * @param model the model
   * @return the measured bytes, or empty if this optimizer cannot be measured in this build
   */
  OptionalLong measure(String optimizer, ModelShapes model);
}
