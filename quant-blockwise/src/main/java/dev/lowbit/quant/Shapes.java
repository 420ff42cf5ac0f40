package dev.lowbit.quant;

import java.util.Arrays;
import java.util.Objects;

/** Shape arithmetic shared by the quantizers; every count is a {@code long}. */
final class Shapes {
  private Shapes() {}

  /** The product of the dimensions (1 for rank 0); rejects negative dimensions and overflow. */
  static long elementCount(long[] shape) {
    Objects.requireNonNull(shape, "shape");
    long n = 1;
    for (int d = 0; d < shape.length; d++) {
      if (shape[d] < 0) {
        throw new IllegalArgumentException(
            "shape " + Arrays.toString(shape) + ": dimension " + d + " is negative");
      }
      try {
        n = Math.multiplyExact(n, shape[d]);
      } catch (ArithmeticException e) {
        throw new IllegalArgumentException(
            "shape " + Arrays.toString(shape) + ": element count overflows a long", e);
      }
    }
    return n;
  }
}
