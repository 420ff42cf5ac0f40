package dev.lowbit.optim;

/**
 * Entry points: builders for each optimizer and presets named as in the papers. Every preset is
 * a builder, so any option can still be changed:
 *
 * <pre>{@code
 * Optimizer opt = Optimizers.adamW8bit().learningRate(1e-3f).weightDecay(0.01f).build();
 * }</pre>
 */
public final class Optimizers {

  private Optimizers() {}

  /**
   * Adam with coupled L2 weight decay (default {@code wd = 0}), float32 state.
   *
   * @return a builder
   */
  public static Adam.Builder adam() {
    return new Adam.Builder(false);
  }

  /**
   * AdamW: decoupled weight decay (default {@code wd = 1e-2}), float32 state.
   *
   * @return a builder
   */
  public static Adam.Builder adamW() {
    return new Adam.Builder(true);
  }

  /**
   * SGD with momentum (default 0.9) and coupled weight decay, float32 buffer.
   *
   * @return a builder
   */
  public static Sgd.Builder sgd() {
    return new Sgd.Builder();
  }

  /**
   * AdamW with float32 m and v (8 bytes per parameter).
   *
   * @return a builder
   */
  public static Adam.Builder adamW32() {
    return adamW().precision(Precision.FP32);
  }

  /**
   * AdamW with 8-bit block-wise states ("8-bit Optimizers via Block-wise Quantization").
   *
   * @return a builder
   */
  public static Adam.Builder adamW8bit() {
    return adamW().precision(Precision.BLOCKWISE_8BIT);
  }

  /**
   * AdamW with 4-bit states, rank-1 second moment ("Memory Efficient Optimizers with 4-bit
   * States").
   *
   * @return a builder
   */
  public static Adam.Builder adamW4bit() {
    return adamW().precision(Precision.FOUR_BIT);
  }

  /**
   * AdamW with a 4-bit first moment and a factorized second moment ("4-bit Factor").
   *
   * @return a builder
   */
  public static Adam.Builder adamW4bitFactorized() {
    return adamW().precision(Precision.FOUR_BIT_FACTORIZED);
  }

  /**
   * SGD with a float32 momentum buffer.
   *
   * @return a builder
   */
  public static Sgd.Builder sgdMomentum32() {
    return sgd().precision(Precision.FP32);
  }

  /**
   * SGD with an 8-bit block-wise momentum buffer.
   *
   * @return a builder
   */
  public static Sgd.Builder sgdMomentum8bit() {
    return sgd().precision(Precision.BLOCKWISE_8BIT);
  }

  /**
   * SGD with a 4-bit DE momentum buffer.
   *
   * @return a builder
   */
  public static Sgd.Builder sgdMomentum4bit() {
    return sgd().precision(Precision.FOUR_BIT);
  }
}
