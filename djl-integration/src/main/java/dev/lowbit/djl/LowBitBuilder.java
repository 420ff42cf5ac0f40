package dev.lowbit.djl;

import ai.djl.training.optimizer.Optimizer.OptimizerBuilder;
import ai.djl.training.tracker.ParameterTracker;
import ai.djl.training.tracker.Tracker;
import dev.lowbit.optim.NonFinitePolicy;
import dev.lowbit.optim.Precision;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * The options every {@link LowBitOptimizer} builder shares: DJL's own ({@code setRescaleGrad},
 * {@code optWeightDecays}, {@code optClipGrad}, inherited; {@code optLearningRateTracker}) and
 * LowBit's (state precision, the small-tensor threshold, per-name overrides, the non-finite
 * policy, threads, and the {@link Semantics} to follow). Values are checked when the optimizer is
 * built; an error's message starts with the method that set the value (for example
 * {@code optBeta1}).
 *
 * @param <T> the concrete builder type
 */
public abstract class LowBitBuilder<T extends LowBitBuilder<T>> extends OptimizerBuilder<T> {

  /** A name pattern pinned to a precision. */
  record NameOverride(String regex, Precision precision) {}

  ParameterTracker learningRateTracker;
  Precision precision;
  long minQuantizedSize = 4096;
  final List<NameOverride> overrides = new ArrayList<>();
  NonFinitePolicy nonFinitePolicy = NonFinitePolicy.THROW;
  /** Null until {@link #optThreads} is called: the core's default applies. */
  Integer threads;
  Semantics semantics = Semantics.TEXTBOOK;

  /**
   * Starts from the given defaults.
   *
   * @param learningRate the default (fixed) learning rate
   * @param weightDecay the default weight decay
   * @param precision the default state precision
   */
  LowBitBuilder(float learningRate, float weightDecay, Precision precision) {
    this.learningRateTracker = Tracker.fixed(learningRate);
    this.precision = precision;
    optWeightDecays(weightDecay);
  }

  /**
   * Sets the {@link ParameterTracker} giving the learning rate of each step. It is asked with the
   * tensor's own step count {@code t}, from 1 (DJL's {@code updateCount}: the same number in a
   * training loop that updates every parameter each step).
   *
   * @param learningRateTracker the tracker, for example {@code Tracker.fixed(1e-3f)}
   * @return this builder
   */
  public T optLearningRateTracker(ParameterTracker learningRateTracker) {
    this.learningRateTracker = Objects.requireNonNull(learningRateTracker, "learningRateTracker");
    return self();
  }

  /**
   * Sets the precision of the optimizer state of tensors with at least
   * {@link #optMinQuantizedSize(long)} elements: {@link Precision#FP32} (the reference),
   * {@link Precision#BLOCKWISE_8BIT}, {@link Precision#FOUR_BIT} or
   * {@link Precision#FOUR_BIT_FACTORIZED}.
   *
   * @param precision the state precision
   * @return this builder
   */
  public T optPrecision(Precision precision) {
    this.precision = Objects.requireNonNull(precision, "precision");
    return self();
  }

  /**
   * Sets the size below which a tensor keeps float32 state whatever the precision (default 4096
   * elements: biases and norms gain nothing from quantization).
   *
   * @param elements the threshold in elements, {@code >= 0}
   * @return this builder
   */
  public T optMinQuantizedSize(long elements) {
    this.minQuantizedSize = elements;
    return self();
  }

  /**
   * Pins every parameter whose whole name matches {@code regex} to a precision, whatever its size;
   * the first matching override wins, and it covers the parameter's copies on other devices.
   * Names are those of {@code model.getBlock().getParameters()}, such as
   * {@code 01Linear_weight}; the optimizer learns them from
   * {@link LowBitOptimizer#bind(ai.djl.Model)} (call it before training when using overrides).
   *
   * @param regex a {@link java.util.regex.Pattern} matched against the whole name
   * @param precision the precision for those parameters
   * @return this builder
   */
  public T optOverride(String regex, Precision precision) {
    overrides.add(new NameOverride(
        Objects.requireNonNull(regex, "regex"), Objects.requireNonNull(precision, "precision")));
    return self();
  }

  /**
   * Sets what a step does with a NaN or infinite gradient, or one too large to square in float32
   * after the rescale: {@link NonFinitePolicy#THROW} (the default) refuses it, naming the
   * parameter, and leaves that parameter, its state and its gradient untouched;
   * {@link NonFinitePolicy#SKIP} skips it and clears the gradient.
   *
   * @param policy the policy
   * @return this builder
   */
  public T optNonFinitePolicy(NonFinitePolicy policy) {
    this.nonFinitePolicy = Objects.requireNonNull(policy, "nonFinitePolicy");
    return self();
  }

  /**
   * Sets the worker threads one tensor's step may use (default: {@code
   * -Ddev.lowbit.kernels.threads} if set, else the available processors, as for the core
   * optimizers). Results do not depend on it.
   *
   * @param threads {@code >= 1}
   * @return this builder
   */
  public T optThreads(int threads) {
    this.threads = threads;
    return self();
  }

  /**
   * Sets which form of the update rule to follow where DJL's built-in optimizers differ from the
   * textbook (default {@link Semantics#TEXTBOOK}; see {@code docs/djl.md}).
   *
   * @param semantics the form
   * @return this builder
   */
  public T optSemantics(Semantics semantics) {
    this.semantics = Objects.requireNonNull(semantics, "semantics");
    return self();
  }

  /**
   * Not supported: LowBit counts each tensor's steps from 1 and keeps the count in its
   * checkpoints; to continue a run, {@link LowBitOptimizer#load load} its checkpoint.
   *
   * @param beginNumUpdate must be 0
   * @return this builder
   * @throws IllegalArgumentException for any other value
   */
  @Override
  public T optBeginNumUpdate(int beginNumUpdate) {
    if (beginNumUpdate != 0) {
      throw new IllegalArgumentException(
          "optBeginNumUpdate(" + beginNumUpdate + ") is not supported: LowBit counts each "
              + "tensor's steps from 1; load a checkpoint to continue a run");
    }
    return super.optBeginNumUpdate(0);
  }

  /**
   * A fresh core builder with the algorithm's own options set (betas, momentum, ...); the
   * optimizer adds the shared ones.
   *
   * @return the core builder
   */
  abstract dev.lowbit.optim.OptimizerBuilder<?> newCoreBuilder();

  /**
   * What wraps the optimizer the core builder builds (Shampoo wraps its base), with this
   * builder's current values captured; the default wraps nothing.
   *
   * @return the wrapping function
   */
  UnaryOperator<dev.lowbit.optim.Optimizer> wrapper() {
    return UnaryOperator.identity();
  }

  /**
   * Passes one option on to a core builder; a value the core refuses is reported under this
   * builder's name for it, the one the user called ({@code optBeta1}, not the core's
   * {@code beta1}).
   *
   * @param option this builder's method, for example {@code optBeta1}
   * @param coreName the core's name for it, which starts the core's message
   * @param set the call to the core builder
   * @throws IllegalArgumentException the core's refusal, naming {@code option}
   */
  static void passOn(String option, String coreName, Runnable set) {
    try {
      set.run();
    } catch (IllegalArgumentException e) {
      String message = String.valueOf(e.getMessage());
      throw new IllegalArgumentException(
          message.startsWith(coreName + " ")
              ? option + message.substring(coreName.length())
              : option + ": " + message,
          e);
    }
  }

  /**
   * Builds the optimizer.
   *
   * @return a new {@link LowBitOptimizer}
   * @throws IllegalArgumentException naming the first option that is out of range
   */
  public LowBitOptimizer build() {
    return new LowBitOptimizer(this);
  }
}
