package dev.lowbit.bench.memory;

import java.util.ArrayList;
import java.util.List;

/**
 * Shampoo's state for computing its memory (docs/algorithms.md section 5, {@code docs/shampoo.md}):
 * the base optimizer's state plus, for every tensor of rank at least 2 after dropping size-1
 * dimensions, a left and a right preconditioner per block of its {@code (d0, -1)} matrix view.
 *
 * <p>A dimension of size {@code d} is cut into {@code ceil(d / 1200)} near-equal parts. One side
 * of order {@code n} holds a statistic and an inverse root: float32, {@code 4 n^2} bytes each; or,
 * for 4-bit Shampoo when {@code n^2 >= 4096}, eigenvalues (or the root's diagonal) in float32 plus
 * 4-bit codes with one float32 scale per 64: {@code 4n + n s / 2 + 4 n s / 64} bytes each, with
 * {@code s = 64 ceil(n / 64)}.
 *
 * @param name the stable name
 * @param fourBit whether preconditioners are 4-bit
 * @param base the base optimizer's layout (float32 AdamW for both presets here)
 */
public record ShampooLayout(String name, boolean fourBit, OptimizerLayout base)
    implements StateFormula {

  /** Largest preconditioner order (the core's default block size per side). */
  static final int MAX_ORDER = 1200;

  private static final int ROOT_BLOCK = 64;

  /**
   * Shampoo 32-bit and 4-bit over float32 AdamW, as {@code lowbit compare} runs them.
   *
   * @return the two layouts
   */
  public static List<ShampooLayout> presets() {
    OptimizerLayout adamw32 = OptimizerLayout.presets().getFirst();
    return List.of(
        new ShampooLayout("shampoo32", false, adamw32),
        new ShampooLayout("shampoo4bit", true, adamw32));
  }

  /**
   * Exact state bytes for one tensor: the base's plus the preconditioners'.
   *
   * @param tensor the tensor
   * @return the bytes
   */
  @Override
  public long bytes(TensorShape tensor) {
    long total = base.bytes(tensor);
    List<Long> kept = new ArrayList<>();
    for (long d : tensor.dims()) {
      if (d != 1) {
        kept.add(d);
      }
    }
    if (kept.size() <= 1) {
      return total;
    }
    long rows = kept.getFirst();
    long cols = tensor.elements() / rows;
    for (long r : parts(rows)) {
      for (long c : parts(cols)) {
        total += side(r) + side(c);
      }
    }
    return total;
  }

  /** Statistic plus inverse root of one side of order n. */
  private long side(long n) {
    if (!fourBit || n * n < OptimizerLayout.MIN_QUANTIZED_ELEMENTS) {
      return 2 * 4 * n * n;
    }
    long s = ROOT_BLOCK * ((n + ROOT_BLOCK - 1) / ROOT_BLOCK);
    return 2 * (4 * n + n * s / 2 + 4 * n * s / ROOT_BLOCK);
  }

  private static List<Long> parts(long n) {
    long k = (n + MAX_ORDER - 1) / MAX_ORDER;
    List<Long> out = new ArrayList<>();
    for (long i = 0; i < k; i++) {
      out.add(n / k + (i < n % k ? 1 : 0));
    }
    return out;
  }
}
