package dev.lowbit.djl;

import ai.djl.training.tracker.ParameterTracker;
import dev.lowbit.optim.Optimizers;
import dev.lowbit.optim.Precision;
import dev.lowbit.optim.shampoo.Shampoo;
import dev.lowbit.optim.shampoo.ShampooPrecision;
import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * Builders of {@link LowBitOptimizer}s, named after DJL's {@code Optimizer.adam()},
 * {@code Optimizer.adamW()} and {@code Optimizer.sgd()}, plus presets named after the papers. The
 * whole migration of a DJL training program from {@code Optimizer.adam()} (the same Adam, with
 * 8-bit state; {@code adamW8bit()} for AdamW):
 *
 * <pre>{@code
 * import dev.lowbit.djl.LowBit;
 * ...
 * .optOptimizer(LowBit.adam8bit().optLearningRateTracker(lr).build())
 * }</pre>
 *
 * <p>(The factories cannot live on {@link LowBitOptimizer} itself: it extends DJL's
 * {@code Optimizer}, whose static {@code adam()}, {@code adamW()} and {@code sgd()} it inherits
 * and Java does not let a subclass redeclare them with other return types.)
 */
public final class LowBit {

  private LowBit() {}

  /**
   * Adam with float32 state and coupled weight decay (default 0), like DJL's
   * {@code Optimizer.adam()}: learning rate 1e-3, beta1 0.9, beta2 0.999, epsilon 1e-8.
   *
   * @return a builder
   */
  public static AdamBuilder adam() {
    return new AdamBuilder(false, Precision.FP32);
  }

  /**
   * AdamW with float32 state and decoupled weight decay (default 0.01), like DJL's
   * {@code Optimizer.adamW()}.
   *
   * @return a builder
   */
  public static AdamBuilder adamW() {
    return new AdamBuilder(true, Precision.FP32);
  }

  /**
   * Adam (coupled weight decay, default 0) with 8-bit block-wise m and v: {@link #adam()} with
   * about a quarter of its state, so that swapping DJL's {@code Optimizer.adam()} for it keeps
   * the algorithm.
   *
   * @return a builder
   */
  public static AdamBuilder adam8bit() {
    return new AdamBuilder(false, Precision.BLOCKWISE_8BIT);
  }

  /**
   * Adam (coupled weight decay, default 0) with 4-bit m and a rank-1 normalized 4-bit v:
   * {@link #adam()} with about an eighth of its state.
   *
   * @return a builder
   */
  public static AdamBuilder adam4bit() {
    return new AdamBuilder(false, Precision.FOUR_BIT);
  }

  /**
   * AdamW with float32 m and v: 8 bytes of state per parameter.
   *
   * @return a builder
   */
  public static AdamBuilder adamW32() {
    return new AdamBuilder(true, Precision.FP32);
  }

  /**
   * AdamW with 8-bit block-wise m and v ("8-bit Optimizers via Block-wise Quantization"): about
   * 2 bytes of state per parameter.
   *
   * @return a builder
   */
  public static AdamBuilder adamW8bit() {
    return new AdamBuilder(true, Precision.BLOCKWISE_8BIT);
  }

  /**
   * AdamW with 4-bit m and a rank-1 normalized 4-bit v ("Memory Efficient Optimizers with 4-bit
   * States"): about 1 byte of state per parameter.
   *
   * @return a builder
   */
  public static AdamBuilder adamW4bit() {
    return new AdamBuilder(true, Precision.FOUR_BIT);
  }

  /**
   * AdamW with a 4-bit m and a factorized v: about 0.5 bytes of state per parameter of large
   * matrices.
   *
   * @return a builder
   */
  public static AdamBuilder adamW4bitFactorized() {
    return new AdamBuilder(true, Precision.FOUR_BIT_FACTORIZED);
  }

  /**
   * SGD like DJL's {@code Optimizer.sgd()}: no momentum unless {@code optMomentum} sets it,
   * float32 state, learning rate 0.01 unless {@code setLearningRateTracker} sets it.
   *
   * @return a builder
   */
  public static SgdBuilder sgd() {
    return new SgdBuilder(Precision.FP32, 0f);
  }

  /**
   * SGD with momentum 0.9 and a float32 buffer.
   *
   * @return a builder
   */
  public static SgdBuilder sgdMomentum32() {
    return new SgdBuilder(Precision.FP32, 0.9f);
  }

  /**
   * SGD with momentum 0.9 and an 8-bit block-wise buffer.
   *
   * @return a builder
   */
  public static SgdBuilder sgdMomentum8bit() {
    return new SgdBuilder(Precision.BLOCKWISE_8BIT, 0.9f);
  }

  /**
   * SGD with momentum 0.9 and a 4-bit buffer.
   *
   * @return a builder
   */
  public static SgdBuilder sgdMomentum4bit() {
    return new SgdBuilder(Precision.FOUR_BIT, 0.9f);
  }

  /**
   * Shampoo with float32 preconditioners over AdamW (float32 state unless {@code optPrecision}
   * says otherwise): see {@link ShampooBuilder}.
   *
   * @return a builder
   */
  public static ShampooBuilder shampoo() {
    return new ShampooBuilder(ShampooPrecision.FP32);
  }

  /**
   * 4-bit Shampoo ("4-bit Shampoo for Memory-Efficient Network Training"): 4-bit eigenvector
   * preconditioners over AdamW.
   *
   * @return a builder
   */
  public static ShampooBuilder shampoo4bit() {
    return new ShampooBuilder(ShampooPrecision.FOUR_BIT);
  }

  /**
   * Builds Adam or AdamW (see {@link LowBitOptimizer} for the rule). Defaults as DJL's: learning
   * rate 1e-3, beta1 0.9, beta2 0.999, epsilon 1e-8; weight decay 0 for Adam, 0.01 for AdamW.
   */
  public static final class AdamBuilder extends LowBitBuilder<AdamBuilder> {

    private final boolean decoupled;
    private float beta1 = 0.9f;
    private float beta2 = 0.999f;
    private float epsilon = 1e-8f;

    AdamBuilder(boolean decoupled, Precision precision) {
      super(1e-3f, decoupled ? 0.01f : 0f, precision);
      this.decoupled = decoupled;
    }

    @Override
    protected AdamBuilder self() {
      return this;
    }

    /**
     * Sets the decay rate for the first moment estimates.
     *
     * @param beta1 the decay rate, in [0, 1)
     * @return this builder
     */
    public AdamBuilder optBeta1(float beta1) {
      this.beta1 = beta1;
      return this;
    }

    /**
     * Sets the decay rate for the second moment estimates.
     *
     * @param beta2 the decay rate, in [0, 1)
     * @return this builder
     */
    public AdamBuilder optBeta2(float beta2) {
      this.beta2 = beta2;
      return this;
    }

    /**
     * Sets \( epsilon \), a small quantity for numerical stability.
     *
     * @param epsilon finite and {@code > 0}
     * @return this builder
     */
    public AdamBuilder optEpsilon(float epsilon) {
      this.epsilon = epsilon;
      return this;
    }

    @Override
    dev.lowbit.optim.OptimizerBuilder<?> newCoreBuilder() {
      var core = decoupled ? Optimizers.adamW() : Optimizers.adam();
      passOn("optBeta1", "beta1", () -> core.beta1(beta1));
      passOn("optBeta2", "beta2", () -> core.beta2(beta2));
      passOn("optEpsilon", "epsilon", () -> core.epsilon(epsilon));
      return core.djlEpsilon(semantics == Semantics.DJL);
    }
  }

  /**
   * Builds SGD with optional momentum: \( b = momentum \cdot b + (g + wd \cdot w) \),
   * \( w = w - learning\_rate \cdot b \).
   */
  public static final class SgdBuilder extends LowBitBuilder<SgdBuilder> {

    private float momentum;
    private boolean nesterov;

    SgdBuilder(Precision precision, float momentum) {
      super(0.01f, 0f, precision);
      this.momentum = momentum;
    }

    @Override
    protected SgdBuilder self() {
      return this;
    }

    /**
     * Sets the learning-rate tracker (DJL's name for it on {@code Sgd.Builder}).
     *
     * @param learningRateTracker the tracker
     * @return this builder
     */
    public SgdBuilder setLearningRateTracker(
        ParameterTracker learningRateTracker) {
      return optLearningRateTracker(learningRateTracker);
    }

    /**
     * Sets the momentum.
     *
     * @param momentum in [0, 1)
     * @return this builder
     */
    public SgdBuilder optMomentum(float momentum) {
      this.momentum = momentum;
      return this;
    }

    /**
     * Uses Nesterov momentum: \( w = w - learning\_rate \cdot (g + momentum \cdot b) \).
     *
     * @param nesterov true for Nesterov
     * @return this builder
     */
    public SgdBuilder optNesterov(boolean nesterov) {
      this.nesterov = nesterov;
      return this;
    }

    @Override
    dev.lowbit.optim.OptimizerBuilder<?> newCoreBuilder() {
      var core = Optimizers.sgd();
      passOn("optMomentum", "momentum", () -> core.momentum(momentum));
      // The core refuses this only when it builds, in its own words; name the DJL options here.
      if (nesterov && momentum == 0f) {
        throw new IllegalArgumentException(
            "optNesterov(true) needs optMomentum > 0, got optMomentum " + momentum);
      }
      return core.nesterov(nesterov);
    }
  }

  /**
   * Builds Shampoo over AdamW. For a matrix gradient \( G \) (larger tensors are viewed as
   * matrices, cut into blocks of at most {@code maxPreconditionerDim} per side):<br>
   * <br>
   * every \( T_1 \) steps: \( L = \beta L + (1 - \beta) G G^T \),
   * \( R = \beta R + (1 - \beta) G^T G \)<br>
   * every \( T_2 \) steps: \( L^{-1/4} \), \( R^{-1/4} \) by eigendecomposition<br>
   * each step: \( \hat G = L^{-1/4} G R^{-1/4} \) scaled to \( \|G\| \), then AdamW steps on
   * \( \hat G \).<br>
   * <br>
   * Defaults: \( T_1 = 100 \), \( T_2 = 500 \), \( \beta = 0.95 \), epsilon 1e-6, blocks of
   * 1200; AdamW with learning rate 1e-3 and weight decay 0.01.
   */
  public static final class ShampooBuilder extends LowBitBuilder<ShampooBuilder> {

    private ShampooPrecision shampooPrecision;
    private int statisticsInterval = 100;
    private int inverseRootInterval = 500;
    private double shampooEpsilon = 1e-6;
    private int maxPreconditionerDim = 1200;

    ShampooBuilder(ShampooPrecision shampooPrecision) {
      super(1e-3f, 0.01f, Precision.FP32);
      this.shampooPrecision = shampooPrecision;
    }

    @Override
    protected ShampooBuilder self() {
      return this;
    }

    /**
     * Sets how the preconditioners are stored: float32, or 4-bit eigenvectors.
     *
     * @param precision the preconditioner precision
     * @return this builder
     */
    public ShampooBuilder optShampooPrecision(ShampooPrecision precision) {
      this.shampooPrecision = Objects.requireNonNull(precision, "shampooPrecision");
      return this;
    }

    /**
     * Sets \( T_1 \), the interval of the statistics update.
     *
     * @param steps at least 1
     * @return this builder
     */
    public ShampooBuilder optStatisticsInterval(int steps) {
      this.statisticsInterval = steps;
      return this;
    }

    /**
     * Sets \( T_2 \), the interval of the inverse-root update.
     *
     * @param steps at least 1
     * @return this builder
     */
    public ShampooBuilder optInverseRootInterval(int steps) {
      this.inverseRootInterval = steps;
      return this;
    }

    /**
     * Sets Shampoo's regularization epsilon (1e-4 is more stable late in training).
     *
     * @param epsilon finite and {@code >= 0}
     * @return this builder
     */
    public ShampooBuilder optShampooEpsilon(double epsilon) {
      this.shampooEpsilon = epsilon;
      return this;
    }

    /**
     * Sets the largest preconditioner order; larger dimensions are split into blocks.
     *
     * @param order at least 1
     * @return this builder
     */
    public ShampooBuilder optMaxPreconditionerDim(int order) {
      this.maxPreconditionerDim = order;
      return this;
    }

    @Override
    dev.lowbit.optim.OptimizerBuilder<?> newCoreBuilder() {
      return Optimizers.adamW().djlEpsilon(semantics == Semantics.DJL);
    }

    @Override
    UnaryOperator<dev.lowbit.optim.Optimizer> wrapper() {
      // Checked here so that the error names this option, not Adam's optEpsilon.
      if (!(shampooEpsilon >= 0) || Double.isInfinite(shampooEpsilon)) {
        throw new IllegalArgumentException(
            "optShampooEpsilon must be finite and >= 0, got " + shampooEpsilon);
      }
      ShampooPrecision p = shampooPrecision;
      int t1 = statisticsInterval;
      int t2 = inverseRootInterval;
      double eps = shampooEpsilon;
      int order = maxPreconditionerDim;
      return base -> {
        Shampoo.Builder shampoo = Shampoo.builder(base).precision(p).epsilon(eps);
        passOn("optStatisticsInterval", "statisticsInterval",
            () -> shampoo.statisticsInterval(t1));
        passOn("optInverseRootInterval", "inverseRootInterval",
            () -> shampoo.inverseRootInterval(t2));
        passOn("optMaxPreconditionerDim", "maxPreconditionerDim",
            () -> shampoo.maxPreconditionerDim(order));
        return shampoo.build();
      };
    }
  }
}
