package dev.lowbit.optim;

import java.util.Objects;

/**
 * The options every optimizer shares, validated by {@link OptimizerBuilder}.
 *
 * @param learningRate the learning rate as a function of the tensor's step count
 * @param clipGlobalNorm maximum L2 norm of all gradients of one {@link Optimizer#step(java.util.Map)}
 *     call together; 0 for none
 * @param clipTensorNorm maximum L2 norm of each tensor's gradient; 0 for none
 * @param clipValue element-wise clip bound applied after rescaling (DJL's {@code clipGrad}); 0 for
 *     none
 * @param gradScale gradient rescale factor (DJL's {@code rescaleGrad}); 1 for none
 * @param nonFinitePolicy what to do with a NaN or infinite gradient
 * @param threads worker threads the kernels may use
 */
public record CommonOptions(
    LearningRateSchedule learningRate,
    float clipGlobalNorm,
    float clipTensorNorm,
    float clipValue,
    float gradScale,
    NonFinitePolicy nonFinitePolicy,
    int threads) {

  /**
   * Checks every value.
   *
   * @throws IllegalArgumentException naming the option that is out of range
   */
  public CommonOptions {
    Objects.requireNonNull(learningRate, "learningRate");
    Objects.requireNonNull(nonFinitePolicy, "nonFinitePolicy");
    OptimizerBuilder.requireNonNegative("clipGlobalNorm", clipGlobalNorm);
    OptimizerBuilder.requireNonNegative("clipTensorNorm", clipTensorNorm);
    OptimizerBuilder.requireNonNegative("clipValue", clipValue);
    if (!(gradScale > 0f) || Float.isInfinite(gradScale)) {
      throw new IllegalArgumentException(
          "rescaleGradient must be finite and > 0, got " + gradScale);
    }
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be >= 1, got " + threads);
    }
  }
}
