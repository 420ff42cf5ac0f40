package dev.lowbit.optim;

import dev.lowbit.kernels.Kernels;
import dev.lowbit.kernels.MomentState;
import dev.lowbit.kernels.SgdScalars;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.Set;

/**
 * SGD with momentum, coupled weight decay and optional Nesterov, with a float32, 8-bit or 4-bit
 * momentum buffer. For each tensor at its step {@code t}:
 *
 * <p>\( g \leftarrow g + wd \cdot p \)<br>
 * \( b \leftarrow \mu b + g \) (at \( t = 1 \): \( b \leftarrow g \))<br>
 * \( p \leftarrow p - lr \cdot (g + \mu b) \) with Nesterov, else \( p \leftarrow p - lr \cdot b \)
 *
 * <p>Build one with {@link Optimizers#sgd()} or a preset.
 */
public final class Sgd extends MomentOptimizer {

  private static final String[] MOMENTS = {"momentum"};

  private final float momentum;
  private final boolean nesterov;
  private final float weightDecay;

  private Sgd(Builder b) {
    super(b.commonOptions(), MOMENTS, Set.of(), b.formatPolicy());
    this.momentum = b.momentum;
    this.nesterov = b.nesterov;
    this.weightDecay = b.weightDecay;
  }

  @Override
  protected String type() {
    return "sgd";
  }

  @Override
  void kernelStep(
      Parameter p, MomentSet buffer, MemorySegment grad, float gradScale, long t,
      MemorySegment clear) {
    SgdScalars s = new SgdScalars(
        learningRate(p.name(), t), momentum, nesterov, weightDecay, gradScale,
        options().clipValue(), t == 1);
    if (p.length() == 0) {
      return;
    }
    // The view carries per-step workspace (rank-1 row scales above rank 2), not kept after this.
    MomentState[] views = buffer.beginStep();
    Kernels.get().sgd(s, p.values(), grad, p.length(), views[0], options().threads(), clear);
    buffer.endStep(views);
  }

  @Override
  protected Map<String, Object> hyperparameters() {
    Map<String, Object> h = super.hyperparameters();
    h.put("momentum", momentum);
    h.put("nesterov", nesterov);
    h.put("weight_decay", weightDecay);
    return h;
  }

  /** Builds {@link Sgd}: defaults {@code lr = 0.01}, momentum 0.9, no Nesterov, {@code wd = 0}. */
  public static final class Builder extends OptimizerBuilder<Builder> {

    private float momentum = 0.9f;
    private boolean nesterov;

    Builder() {
      super(0.01f, 0f);
    }

    @Override
    protected Builder self() {
      return this;
    }

    /**
     * The momentum factor {@code mu} (default 0.9).
     *
     * @param momentum in [0, 1)
     * @return this builder
     */
    public Builder momentum(float momentum) {
      requireUnitInterval("momentum", momentum);
      this.momentum = momentum;
      return this;
    }

    /**
     * Whether to use the Nesterov form (default false; needs a momentum above 0).
     *
     * @param nesterov true for Nesterov
     * @return this builder
     */
    public Builder nesterov(boolean nesterov) {
      this.nesterov = nesterov;
      return this;
    }

    /**
     * A custom format for the momentum buffer instead of a {@link Precision}.
     *
     * @param buffer float32, or block-wise with a signed code book
     * @return this builder
     */
    public Builder stateFormat(StateFormat buffer) {
      Adam.checkSignedMoment("stateFormat", buffer);
      this.customFormats = new StateFormat[] {buffer};
      return this;
    }

    /**
     * Pins parameters whose whole name matches {@code regex} to a custom buffer format.
     *
     * @param regex matched against the whole name
     * @param buffer float32, or block-wise with a signed code book
     * @return this builder
     */
    public Builder override(String regex, StateFormat buffer) {
      Adam.checkSignedMoment("override format", buffer);
      return overrideFormats(regex, new StateFormat[] {buffer});
    }

    FormatPolicy formatPolicy() {
      StateFormat[] defaults =
          customFormats != null ? customFormats : new StateFormat[] {precision.momentum()};
      return new FormatPolicy(
          defaults, minQuantizedSize, overrides, pr -> new StateFormat[] {pr.momentum()});
    }

    @Override
    public Sgd build() {
      if (nesterov && momentum == 0f) {
        throw new IllegalArgumentException("nesterov needs a momentum > 0");
      }
      return new Sgd(this);
    }
  }
}
