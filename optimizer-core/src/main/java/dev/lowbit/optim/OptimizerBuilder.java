package dev.lowbit.optim;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The options every LowBit optimizer builder shares (after DJL's {@code OptimizerBuilder}):
 * learning rate, weight decay, state precision, the small-tensor threshold, per-name overrides,
 * clipping, gradient rescale, the non-finite policy and threads. Every setter checks its value at
 * once and throws an {@link IllegalArgumentException} naming the option.
 *
 * @param <B> the concrete builder type
 */
public abstract class OptimizerBuilder<B extends OptimizerBuilder<B>> {

  /** A name pattern pinned to a precision or to explicit formats. */
  record StateOverride(Predicate<String> names, Precision precision, StateFormat[] formats) {}

  /** Default for {@link #minQuantizedSize(long)}: docs/algorithms.md section 3. */
  public static final long DEFAULT_MIN_QUANTIZED_SIZE = 4096;

  LearningRateSchedule learningRate;
  float weightDecay;
  Precision precision = Precision.FP32;
  StateFormat[] customFormats;
  long minQuantizedSize = DEFAULT_MIN_QUANTIZED_SIZE;
  final List<StateOverride> overrides = new ArrayList<>();
  float clipGlobalNorm;
  float clipTensorNorm;
  float clipValue;
  float gradScale = 1f;
  NonFinitePolicy nonFinitePolicy = NonFinitePolicy.THROW;
  int threads = dev.lowbit.kernels.Kernels.defaultThreads();

  /**
   * Starts with the given defaults.
   *
   * @param learningRate the default learning rate
   * @param weightDecay the default weight decay
   */
  protected OptimizerBuilder(float learningRate, float weightDecay) {
    this.learningRate = LearningRateSchedule.constant(learningRate);
    this.weightDecay = weightDecay;
  }

  /**
   * This builder, typed as the concrete builder.
   *
   * @return this
   */
  protected abstract B self();

  /**
   * Builds the optimizer.
   *
   * @return a new optimizer with no parameters registered
   */
  public abstract Optimizer build();

  /**
   * A constant learning rate {@code lr}.
   *
   * @param lr finite and {@code >= 0}
   * @return this builder
   */
  public B learningRate(float lr) {
    requireNonNegative("learningRate", lr);
    this.learningRate = LearningRateSchedule.constant(lr);
    return self();
  }

  /**
   * A learning rate that depends on the tensor's step count {@code t} (from 1).
   *
   * @param schedule the schedule; a step whose rate is negative or not finite fails unwritten
   * @return this builder
   */
  public B learningRate(LearningRateSchedule schedule) {
    this.learningRate = Objects.requireNonNull(schedule, "learningRate");
    return self();
  }

  /**
   * Weight decay {@code wd} (decoupled for AdamW, coupled L2 for Adam and SGD).
   *
   * @param wd finite and {@code >= 0}
   * @return this builder
   */
  public B weightDecay(float wd) {
    requireNonNegative("weightDecay", wd);
    this.weightDecay = wd;
    return self();
  }

  /**
   * The state precision of tensors with at least {@link #minQuantizedSize(long)} elements.
   * Replaces any formats set with the optimizer's own {@code stateFormats} option.
   *
   * @param precision the precision
   * @return this builder
   */
  public B precision(Precision precision) {
    this.precision = Objects.requireNonNull(precision, "precision");
    this.customFormats = null;
    return self();
  }

  /**
   * Tensors with fewer elements keep float32 state (default {@value #DEFAULT_MIN_QUANTIZED_SIZE}),
   * unless an override names them.
   *
   * @param elements {@code >= 0}; 0 quantizes every tensor
   * @return this builder
   */
  public B minQuantizedSize(long elements) {
    if (elements < 0) {
      throw new IllegalArgumentException("minQuantizedSize must be >= 0, got " + elements);
    }
    this.minQuantizedSize = elements;
    return self();
  }

  /**
   * Pins every parameter whose whole name matches {@code regex} to a precision, whatever its
   * size. The first matching override (in the order added) wins.
   *
   * @param regex a {@link Pattern} matched against the whole name, such as {@code ".*embedding.*"}
   * @param precision the precision for those parameters
   * @return this builder
   */
  public B override(String regex, Precision precision) {
    return override(compile(regex).asMatchPredicate(), precision);
  }

  /**
   * Pins every parameter whose name satisfies {@code names} to a precision, whatever its size;
   * for rules a regular expression does not express (an integration, for example, that keys a
   * parameter's extra copies {@code name@device} and matches the name alone). Overrides of both
   * kinds apply in the order added; the first that matches wins.
   *
   * @param names tells, from a parameter's registered name, whether the override applies
   * @param precision the precision for those parameters
   * @return this builder
   */
  public B override(Predicate<String> names, Precision precision) {
    Objects.requireNonNull(names, "override names");
    Objects.requireNonNull(precision, "override precision");
    overrides.add(new StateOverride(names, precision, null));
    return self();
  }

  B overrideFormats(String regex, StateFormat[] formats) {
    overrides.add(new StateOverride(compile(regex).asMatchPredicate(), null, formats));
    return self();
  }

  private static Pattern compile(String regex) {
    Objects.requireNonNull(regex, "override regex");
    try {
      return Pattern.compile(regex);
    } catch (PatternSyntaxException e) {
      throw new IllegalArgumentException("override regex '" + regex + "' is invalid: "
          + e.getDescription(), e);
    }
  }

  /**
   * Clips the gradients of one {@link Optimizer#step(java.util.Map)} call together so that their
   * joint L2 norm is at most {@code maxNorm}.
   *
   * @param maxNorm {@code > 0}, or 0 to turn it off
   * @return this builder
   */
  public B clipGlobalNorm(float maxNorm) {
    requireNonNegative("clipGlobalNorm", maxNorm);
    this.clipGlobalNorm = maxNorm;
    return self();
  }

  /**
   * Clips each tensor's gradient to an L2 norm of at most {@code maxNorm}.
   *
   * @param maxNorm {@code > 0}, or 0 to turn it off
   * @return this builder
   */
  public B clipTensorNorm(float maxNorm) {
    requireNonNegative("clipTensorNorm", maxNorm);
    this.clipTensorNorm = maxNorm;
    return self();
  }

  /**
   * Clips every gradient element to {@code [-bound, bound]} after rescaling (DJL's
   * {@code clipGrad}).
   *
   * @param bound {@code > 0}, or 0 to turn it off
   * @return this builder
   */
  public B clipValue(float bound) {
    requireNonNegative("clipValue", bound);
    this.clipValue = bound;
    return self();
  }

  /**
   * Multiplies every gradient by {@code factor} first (DJL's {@code rescaleGrad}).
   *
   * @param factor finite and {@code > 0}
   * @return this builder
   */
  public B rescaleGradient(float factor) {
    if (!(factor > 0f) || Float.isInfinite(factor)) {
      throw new IllegalArgumentException("rescaleGradient must be finite and > 0, got " + factor);
    }
    this.gradScale = factor;
    return self();
  }

  /**
   * What a step does with a NaN, infinite or too large gradient (default
   * {@link NonFinitePolicy#THROW}; see {@link CommonOptions#largestGradient()}).
   *
   * @param policy the policy
   * @return this builder
   */
  public B nonFinitePolicy(NonFinitePolicy policy) {
    this.nonFinitePolicy = Objects.requireNonNull(policy, "nonFinitePolicy");
    return self();
  }

  /**
   * Worker threads the kernels may use for one tensor (default: {@code
   * Kernels.defaultThreads()}, the available processors unless {@code
   * -Ddev.lowbit.kernels.threads} says otherwise). Results
   * do not depend on it.
   *
   * @param threads {@code >= 1}
   * @return this builder
   */
  public B threads(int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be >= 1, got " + threads);
    }
    this.threads = threads;
    return self();
  }

  /**
   * The shared options as set so far.
   *
   * @return the options for {@link Optimizer#Optimizer(CommonOptions)}
   */
  protected CommonOptions commonOptions() {
    return new CommonOptions(
        learningRate, clipGlobalNorm, clipTensorNorm, clipValue, gradScale, nonFinitePolicy,
        threads);
  }

  static void requireNonNegative(String option, float value) {
    if (!(value >= 0f) || Float.isInfinite(value)) {
      throw new IllegalArgumentException(option + " must be finite and >= 0, got " + value);
    }
  }

  static void requireUnitInterval(String option, float value) {
    if (!(value >= 0f && value < 1f)) {
      throw new IllegalArgumentException(option + " must be in [0, 1), got " + value);
    }
  }
}
