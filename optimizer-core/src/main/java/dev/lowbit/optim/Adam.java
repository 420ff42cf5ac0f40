package dev.lowbit.optim;

import dev.lowbit.kernels.AdamScalars;
import dev.lowbit.kernels.Kernels;
import dev.lowbit.kernels.MomentState;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.Set;

/**
 * Adam and AdamW ("Adam: A Method for Stochastic Optimization"; "Decoupled Weight Decay
 * Regularization") with float32, 8-bit or 4-bit moments. For each tensor at its step {@code t}:
 *
 * <p>\( g \leftarrow g + wd \cdot p \) (Adam only: coupled L2 decay)<br>
 * \( m \leftarrow \beta_1 m + (1 - \beta_1) g \)<br>
 * \( v \leftarrow \beta_2 v + (1 - \beta_2) g^2 \)<br>
 * \( p \leftarrow p - lr \cdot wd \cdot p \) (AdamW only: decoupled decay)<br>
 * \( p \leftarrow p - lr \cdot \frac{m / (1 - \beta_1^t)}{\sqrt{v / (1 - \beta_2^t)} + \epsilon} \)
 *
 * <p>With {@link Builder#djlEpsilon(boolean)}, epsilon sits outside the bias correction as in
 * DJL's built-in Adam: \( p \leftarrow p - lr \frac{\sqrt{1 - \beta_2^t}}{1 - \beta_1^t} \cdot
 * \frac{m}{\sqrt{v} + \epsilon} \).
 *
 * <p>All arithmetic is float32 on dequantized values; the parameter update uses the fresh m and
 * v. Build one with {@link Optimizers#adam()}, {@link Optimizers#adamW()} or a preset.
 */
public final class Adam extends MomentOptimizer {

  private static final String[] MOMENTS = {"m", "v"};

  private final boolean decoupled;
  private final float beta1;
  private final float beta2;
  private final float epsilon;
  private final float weightDecay;
  private final boolean djlEpsilon;

  private Adam(Builder b) {
    super(b.commonOptions(), MOMENTS, Set.of("v"), b.formatPolicy());
    this.decoupled = b.decoupled;
    this.beta1 = b.beta1;
    this.beta2 = b.beta2;
    this.epsilon = b.epsilon;
    this.weightDecay = b.weightDecay;
    this.djlEpsilon = b.djlEpsilon;
  }

  @Override
  protected String type() {
    return decoupled ? "adamw" : "adam";
  }

  /**
   * The kernel scalars of step {@code t}: bias corrections in double, then rounded to float once.
   *
   * @param lr the learning rate of this step
   * @param t the tensor's step count, from 1
   * @param gradScale rescale and clipping factor
   * @return the scalars
   */
  AdamScalars scalars(float lr, long t, float gradScale) {
    double bc1 = 1.0 - Math.pow(beta1, t);
    double bc2 = 1.0 - Math.pow(beta2, t);
    float stepSize;
    float vScale;
    if (djlEpsilon) {
      stepSize = (float) (lr * Math.sqrt(bc2) / bc1);
      vScale = 1f;
    } else {
      stepSize = (float) (lr / bc1);
      vScale = (float) (1.0 / Math.sqrt(bc2));
    }
    float decoupledDecay = decoupled ? (float) ((double) lr * weightDecay) : 0f;
    float l2 = decoupled ? 0f : weightDecay;
    return new AdamScalars(
        beta1, beta2, stepSize, vScale, epsilon, decoupledDecay, l2, gradScale,
        options().clipValue());
  }

  @Override
  void kernelStep(
      Parameter p, MomentSet moments, MemorySegment grad, float gradScale, long t,
      MemorySegment clear) {
    AdamScalars s = scalars(learningRate(p.name(), t), t, gradScale);
    if (p.length() == 0) {
      return;
    }
    // The views carry per-step workspace (rank-1 row scales above rank 2), not kept after this.
    MomentState[] views = moments.beginStep();
    Kernels.get()
        .adam(s, p.values(), grad, p.length(), views[0], views[1], options().threads(), clear);
    moments.endStep(views);
  }

  @Override
  protected Map<String, Object> hyperparameters() {
    Map<String, Object> h = super.hyperparameters();
    h.put("beta1", beta1);
    h.put("beta2", beta2);
    h.put("epsilon", epsilon);
    h.put("weight_decay", weightDecay);
    h.put("decoupled_weight_decay", decoupled);
    h.put("djl_epsilon", djlEpsilon);
    return h;
  }

  /**
   * Builds {@link Adam}: defaults {@code lr = 1e-3}, {@code beta1 = 0.9}, {@code beta2 = 0.999},
   * {@code epsilon = 1e-8}; AdamW {@code wd = 1e-2}, Adam {@code wd = 0}; precision FP32.
   */
  public static final class Builder extends OptimizerBuilder<Builder> {

    private final boolean decoupled;
    private float beta1 = 0.9f;
    private float beta2 = 0.999f;
    private float epsilon = 1e-8f;
    private boolean djlEpsilon;

    Builder(boolean decoupled) {
      super(1e-3f, decoupled ? 1e-2f : 0f);
      this.decoupled = decoupled;
    }

    @Override
    protected Builder self() {
      return this;
    }

    /**
     * Both moment decays.
     *
     * @param beta1 first-moment decay in [0, 1)
     * @param beta2 second-moment decay in [0, 1)
     * @return this builder
     */
    public Builder betas(float beta1, float beta2) {
      return beta1(beta1).beta2(beta2);
    }

    /**
     * First-moment decay (default 0.9).
     *
     * @param beta1 in [0, 1)
     * @return this builder
     */
    public Builder beta1(float beta1) {
      requireUnitInterval("beta1", beta1);
      this.beta1 = beta1;
      return this;
    }

    /**
     * Second-moment decay (default 0.999).
     *
     * @param beta2 in [0, 1)
     * @return this builder
     */
    public Builder beta2(float beta2) {
      requireUnitInterval("beta2", beta2);
      this.beta2 = beta2;
      return this;
    }

    /**
     * Added to the denominator (default 1e-8).
     *
     * @param epsilon finite and {@code > 0}
     * @return this builder
     */
    public Builder epsilon(float epsilon) {
      if (!(epsilon > 0f) || Float.isInfinite(epsilon)) {
        throw new IllegalArgumentException("epsilon must be finite and > 0, got " + epsilon);
      }
      this.epsilon = epsilon;
      return this;
    }

    /**
     * Puts epsilon outside the bias correction, as DJL's built-in Adam does (default false).
     *
     * @param djlEpsilon true for DJL's form
     * @return this builder
     */
    public Builder djlEpsilon(boolean djlEpsilon) {
      this.djlEpsilon = djlEpsilon;
      return this;
    }

    /**
     * Custom formats for m and v instead of a {@link Precision} (for tensors at or above the size
     * threshold).
     *
     * @param firstMoment float32, or block-wise with a signed code book
     * @param secondMoment any format
     * @return this builder
     */
    public Builder stateFormats(StateFormat firstMoment, StateFormat secondMoment) {
      this.customFormats = checked(firstMoment, secondMoment);
      return this;
    }

    /**
     * Pins parameters whose whole name matches {@code regex} to custom formats for m and v.
     *
     * @param regex matched against the whole name
     * @param firstMoment float32, or block-wise with a signed code book
     * @param secondMoment any format
     * @return this builder
     */
    public Builder override(String regex, StateFormat firstMoment, StateFormat secondMoment) {
      return overrideFormats(regex, checked(firstMoment, secondMoment));
    }

    private static StateFormat[] checked(StateFormat m, StateFormat v) {
      checkSignedMoment("firstMoment", m);
      if (v == null) {
        throw new NullPointerException("secondMoment");
      }
      return new StateFormat[] {m, v};
    }

    FormatPolicy formatPolicy() {
      StateFormat[] defaults = customFormats != null
          ? customFormats
          : new StateFormat[] {precision.firstMoment(), precision.secondMoment()};
      return new FormatPolicy(
          defaults, minQuantizedSize, overrides,
          pr -> new StateFormat[] {pr.firstMoment(), pr.secondMoment()});
    }

    @Override
    public Adam build() {
      return new Adam(this);
    }
  }

  static void checkSignedMoment(String option, StateFormat f) {
    if (f == null) {
      throw new NullPointerException(option);
    }
    boolean ok = switch (f.normalization()) {
      case FLOAT32 -> true;
      case BLOCKWISE -> f.book().signed();
      default -> false;
    };
    if (!ok) {
      throw new IllegalArgumentException(
          option + " must be float32 or block-wise with a signed code book, got " + f);
    }
  }
}
