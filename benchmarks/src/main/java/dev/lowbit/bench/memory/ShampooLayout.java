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
   * @throws ArithmeticException if they exceed {@code Long.MAX_VALUE}
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
    // Every row part meets every column part: sum over pairs of side(r) + side(c)
    // = (column parts) * sum of row sides + (row parts) * sum of column sides.
    total = Math.addExact(total, Math.multiplyExact(partCount(cols), sideSum(rows)));
    return Math.addExact(total, Math.multiplyExact(partCount(rows), sideSum(cols)));
  }

  /** Statistic plus inverse root of one side of order n. */
  private long side(long n) {
    long square = Math.multiplyExact(n, n);
    if (!fourBit || square < OptimizerLayout.MIN_QUANTIZED_ELEMENTS) {
      return Math.multiplyExact(8, square);
    }
    long s = Math.multiplyExact(ROOT_BLOCK, Math.ceilDiv(n, ROOT_BLOCK));
    long ns = Math.multiplyExact(n, s);
    return Math.multiplyExact(
        2, Math.addExact(Math.addExact(Math.multiplyExact(4, n), ns / 2), 4 * (ns / ROOT_BLOCK)));
  }

  /** How many near-equal parts of at most {@link #MAX_ORDER} a dimension of size n is cut into. */
  private static long partCount(long n) {
    return Math.ceilDiv(n, MAX_ORDER);
  }

  /**
   * The sum of {@link #side} over the parts of a dimension of size n: {@code n % k} parts of
   * {@code n / k + 1} and the rest of {@code n / k}.
   */
  private long sideSum(long n) {
    long k = partCount(n);
    long larger = n % k;
    long sum = Math.multiplyExact(k - larger, side(n / k));
    return larger == 0 ? sum : Math.addExact(sum, Math.multiplyExact(larger, side(n / k + 1)));
  }
}
