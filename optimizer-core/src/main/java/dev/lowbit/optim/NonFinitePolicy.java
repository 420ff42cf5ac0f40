package dev.lowbit.optim;

/**
 * What a step does with a gradient that holds a NaN, an infinity, or an element too large to
 * square in float32 after the rescale ({@link CommonOptions#largestGradient()}).
 */
public enum NonFinitePolicy {
  /**
   * Refuse the step with a {@link NonFiniteGradientException} naming the parameter and the first
   * bad index. Nothing is written: parameters, states and step counts stay as they were (for
   * {@link Optimizer#step(java.util.Map)}, none of the given tensors is stepped).
   */
  THROW,
  /**
   * Skip that tensor's step: its parameter, state and step count stay as they were, and
   * {@link Optimizer#skippedSteps()} grows by one. Other tensors of the same call still step.
   */
  SKIP
}
