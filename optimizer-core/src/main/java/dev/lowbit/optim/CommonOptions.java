package dev.lowbit.optim;

import java.util.Objects;

/**
 * The options every optimizer shares, validated by {@link OptimizerBuilder}.
 *
 * @param learningRate the learning rate as a function of the tensor's step count
 * @param clipGlobalNorm maximum L2 norm of all gradients of one
 *     {@link Optimizer#step(java.util.Map)} call together; 0 for none
 * @param clipTensorNorm maximum L2 norm of each tensor's gradient; 0 for none
 * @param clipValue element-wise clip bound applied after rescaling (DJL's {@code clipGrad}); 0 for
 *     none
 * @param gradScale gradient rescale factor (DJL's {@code rescaleGrad}); 1 for none
 * @param nonFinitePolicy what to do with a NaN, infinite or too large gradient (see
 *     {@link #largestGradient()})
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

  /**
   * The largest magnitude of a rescaled gradient element a step accepts, \( 2^{63} \): its
   * square, \( 2^{126} \), leaves float32 room below its maximum, so no second moment or
   * statistic overflows to infinity.
   */
  public static final float LARGEST_RESCALED_GRADIENT = 0x1p63f;

  /**
   * The largest magnitude of a gradient element, as passed in, that a step accepts; anything
   * larger, NaN or infinite is handled by the {@link #nonFinitePolicy()}. It is
   * {@link #LARGEST_RESCALED_GRADIENT} divided by {@link #gradScale()}, or just "finite" when the
   * element-wise {@link #clipValue()} bounds the rescaled value by no more than that.
   *
   * @return the limit, at most {@code Float.MAX_VALUE}
   */
  public float largestGradient() {
    if (clipValue > 0f && clipValue <= LARGEST_RESCALED_GRADIENT) {
      return Float.MAX_VALUE;
    }
    return (float) Math.min(Float.MAX_VALUE, (double) LARGEST_RESCALED_GRADIENT / gradScale);
  }
}
