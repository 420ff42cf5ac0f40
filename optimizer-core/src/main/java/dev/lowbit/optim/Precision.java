package dev.lowbit.optim;

import dev.lowbit.quant.CodeBook;

/**
 * The named state precisions (docs/algorithms.md sections 2-3). Each maps to one
 * {@link StateFormat} per moment; {@link StateFormat} also allows any other combination.
 */
public enum Precision {
  /** Everything in float32: the reference. Adam 8 bytes per parameter, SGD 4. */
  FP32(StateFormat.float32(), StateFormat.float32(), StateFormat.float32()),
  /**
   * 8-bit block-wise: m (and the SGD buffer) dynamic signed 8 with B = 256, v dynamic unsigned 8
   * without its zero ({@link CodeBook#DYNAMIC0_UNSIGNED_8}) with B = 256. Adam 2.031 bytes per
   * parameter, SGD 1.016. (The 8-bit paper's v map contains 0; with it, a small v decodes to 0 and
   * an element whose gradient then turns exactly 0 takes a step of {@code lr * m / eps}: the
   * Fashion-MNIST MLP diverged within 30 steps. The zero-free map fixes that at no cost.)
   */
  BLOCKWISE_8BIT(
      StateFormat.blockwise(CodeBook.DYNAMIC_SIGNED_8, 256),
      StateFormat.blockwise(CodeBook.DYNAMIC0_UNSIGNED_8, 256),
      StateFormat.blockwise(CodeBook.DYNAMIC_SIGNED_8, 256)),
  /**
   * 4-bit: m (and the SGD buffer) DE signed 4 with -1 as its most negative entry
   * ({@link CodeBook#DE1_SIGNED_4}) with B = 128; v rank-1 normalized with the Linear-4 map for
   * tensors of rank 2 or more, B = 128 Linear-4 for the others. Adam about 1.03 bytes per
   * parameter, SGD 0.531. (The 4-bit paper's m map has no -1: a block led by a negative value
   * shrinks it by 11% at every step, and 4-bit AdamW ended 1.9% above float32 on least squares.)
   */
  FOUR_BIT(
      StateFormat.blockwise(CodeBook.DE1_SIGNED_4, 128),
      StateFormat.rank1(CodeBook.LINEAR_4),
      StateFormat.blockwise(CodeBook.DE1_SIGNED_4, 128)),
  /**
   * 4-bit with a factorized second moment: m as {@link #FOUR_BIT}; v as float32 row and column
   * statistics for tensors of rank 2 or more (B = 128 Linear-4 for the others). About 0.53 bytes
   * per parameter for large matrices. SGD has no second moment, so for SGD this equals
   * {@link #FOUR_BIT}.
   */
  FOUR_BIT_FACTORIZED(
      StateFormat.blockwise(CodeBook.DE1_SIGNED_4, 128),
      StateFormat.factorized(),
      StateFormat.blockwise(CodeBook.DE1_SIGNED_4, 128));

  private final StateFormat firstMoment;
  private final StateFormat secondMoment;
  private final StateFormat momentum;

  Precision(StateFormat firstMoment, StateFormat secondMoment, StateFormat momentum) {
    this.firstMoment = firstMoment;
    this.secondMoment = secondMoment;
    this.momentum = momentum;
  }

  /**
   * Adam's first moment m in this precision.
   *
   * @return the format
   */
  public StateFormat firstMoment() {
    return firstMoment;
  }

  /**
   * Adam's second moment v in this precision (before the rank fallback of
   * {@link StateFormat#resolve(long[])}).
   *
   * @return the format
   */
  public StateFormat secondMoment() {
    return secondMoment;
  }

  /**
   * SGD's momentum buffer in this precision.
   *
   * @return the format
   */
  public StateFormat momentum() {
    return momentum;
  }
}
