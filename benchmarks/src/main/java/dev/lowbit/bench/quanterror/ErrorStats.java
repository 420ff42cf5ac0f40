package dev.lowbit.bench.quanterror;

/**
 * Accumulates the error of decoded values {@code y} against the originals {@code x} over any
 * number of tensors.
 *
 * <pre>
 * relL2  = sqrt(Σ (y - x)²) / sqrt(Σ x²)
 * maxRel = max over x ≠ 0 of |y - x| / |x|
 * zeroed = #{x ≠ 0 and y == 0} / #{x ≠ 0}
 * </pre>
 * Sums are in double. {@code zeroed} is the figure that matters for a second moment: a
 * non-zero {@code v} decoded as 0 makes Adam divide by {@code ε} alone (the zero-point problem).
 */
public final class ErrorStats {
  private double squaredError;
  private double squaredNorm;
  private double maxRelative;
  private long nonZero;
  private long zeroed;

  /** An empty accumulator: every figure is 0 until values are added. */
  public ErrorStats() {}

  /**
   * Adds one tensor's originals and decoded values.
   *
   * @param x the originals
   * @param y the decoded values, as many as {@code x}
   * @throws IllegalArgumentException if the lengths differ
   */
  public void add(float[] x, float[] y) {
    if (x.length != y.length) {
      throw new IllegalArgumentException(
          "x has " + x.length + " values but y has " + y.length);
    }
    for (int i = 0; i < x.length; i++) {
      double e = (double) y[i] - x[i];
      squaredError += e * e;
      squaredNorm += (double) x[i] * x[i];
      if (x[i] != 0f) {
        nonZero++;
        maxRelative = Math.max(maxRelative, Math.abs(e) / Math.abs(x[i]));
        if (y[i] == 0f) {
          zeroed++;
        }
      }
    }
  }

  /**
   * The relative L2 error (0 when every original was 0).
   *
   * @return sqrt(Σ (y - x)²) / sqrt(Σ x²)
   */
  public double relL2() {
    return squaredNorm == 0 ? 0 : Math.sqrt(squaredError / squaredNorm);
  }

  /**
   * The largest relative error of a non-zero original.
   *
   * @return max |y - x| / |x| over x ≠ 0
   */
  public double maxRel() {
    return maxRelative;
  }

  /**
   * The fraction of non-zero originals that decode to exactly 0.
   *
   * @return #{x ≠ 0, y == 0} / #{x ≠ 0}, or 0 when there is no non-zero original
   */
  public double zeroed() {
    return nonZero == 0 ? 0 : (double) zeroed / nonZero;
  }
}
