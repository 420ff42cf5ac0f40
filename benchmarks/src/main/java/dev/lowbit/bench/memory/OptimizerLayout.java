package dev.lowbit.bench.memory;

import java.util.List;

/**
 * The state an optimizer keeps per tensor, for computing its memory.
 *
 * @param name the stable name (as in {@code lowbit compare})
 * @param moments the moments it keeps per tensor (Adam: m and v; SGD: the momentum buffer)
 */
public record OptimizerLayout(String name, List<MomentLayout> moments) implements StateFormula {

  /**
   * Tensors with fewer elements keep float32 state (docs/algorithms.md section 3: quantizing biases
   * and norms saves nothing and costs stability).
   */
  public static final long MIN_QUANTIZED_ELEMENTS = 4096;

  private static final MomentLayout RANK1_LINEAR4 =
      new MomentLayout(MomentLayout.Kind.RANK1, 4, 0);
  private static final MomentLayout FACTORIZED =
      new MomentLayout(MomentLayout.Kind.FACTORIZED, 0, 0);

  /** Copies the list. */
  public OptimizerLayout {
    moments = List.copyOf(moments);
  }

  /**
   * The AdamW and SGD-momentum presets of the core, in report order.
   *
   * @return the layouts
   */
  public static List<OptimizerLayout> presets() {
    MomentLayout m8 = MomentLayout.blockwise(8, 256);
    MomentLayout m4 = MomentLayout.blockwise(4, 128);
    MomentLayout fp32 = MomentLayout.FLOAT32;
    return List.of(
        new OptimizerLayout("adamw32", List.of(fp32, fp32)),
        new OptimizerLayout("adamw8bit", List.of(m8, m8)),
        new OptimizerLayout("adamw4bit", List.of(m4, RANK1_LINEAR4)),
        new OptimizerLayout("adamw4bit-factorized", List.of(m4, FACTORIZED)),
        new OptimizerLayout("sgdm32", List.of(fp32)),
        new OptimizerLayout("sgdm8bit", List.of(m8)),
        new OptimizerLayout("sgdm4bit", List.of(m4)));
  }

  /**
   * Exact state bytes for one tensor: float32 for every moment below {@link
   * #MIN_QUANTIZED_ELEMENTS} elements, else the sum of the moments' {@link
   * MomentLayout#bytes(long[])}.
   *
   * @param tensor the tensor
   * @return the bytes
   * @throws ArithmeticException if they exceed {@code Long.MAX_VALUE}
   */
  @Override
  public long bytes(TensorShape tensor) {
    long[] dims = tensor.dims();
    long total = 0;
    for (MomentLayout moment : moments) {
      total =
          Math.addExact(
              total,
              tensor.elements() < MIN_QUANTIZED_ELEMENTS
                  ? MomentLayout.FLOAT32.bytes(dims)
                  : moment.bytes(dims));
    }
    return total;
  }
}
