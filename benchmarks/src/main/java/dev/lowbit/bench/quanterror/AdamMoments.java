package dev.lowbit.bench.quanterror;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Reproducible Adam-like moments: a seeded sequence of heavy-tailed gradients run through Adam's
 * moment recurrences (no bias correction: these are the stored states).
 *
 * <pre>
 * g_ij = r_i · c_j · z · exp(0.75 · w)        z, w ~ N(0, 1) fresh each step
 * m    = β1 · m + (1 - β1) · g                 β1 = 0.9
 * v    = β2 · v + (1 - β2) · g²                β2 = 0.999
 * </pre>
 * The log-normal factor {@code exp(0.75 w)} gives the heavy tail (a few gradients tens of times
 * the typical one); the fixed row and column scales {@code r_i = 10^-3 · exp(N(0,1))} and
 * {@code c_j = exp(0.5 · N(0,1))} give the row/column structure real layers have, which rank-1
 * normalization exploits. A 1-D tensor has only the row scales (one per element).
 *
 * @param shape the tensor's dimensions (1-D or 2-D)
 * @param m the first moment, row-major
 * @param v the second moment, row-major
 */
public record AdamMoments(long[] shape, float[] m, float[] v) {

  /** β1 of Adam. */
  public static final float BETA1 = 0.9f;

  /** β2 of Adam. */
  public static final float BETA2 = 0.999f;

  /**
   * Runs {@code steps} gradient steps for a tensor of this shape.
   *
   * @param shape one or two dimensions, at most 2^31 - 1 elements in all
   * @param steps how many gradients to accumulate (at least 1)
   * @param seed the generator's seed: equal seeds give equal moments
   * @return the moments after the last step
   * @throws IllegalArgumentException if the shape or step count is out of range
   */
  public static AdamMoments generate(long[] shape, int steps, long seed) {
    if (shape.length < 1 || shape.length > 2) {
      throw new IllegalArgumentException(
          "shape must have 1 or 2 dimensions, got " + Arrays.toString(shape));
    }
    if (steps < 1) {
      throw new IllegalArgumentException("steps must be >= 1, got " + steps);
    }
    long rowsLong = shape[0];
    long colsLong = shape.length == 2 ? shape[1] : 1;
    // Divide rather than multiply: rows * cols can overflow a long (3037000500 x 3037000500).
    if (rowsLong < 1 || colsLong < 1 || rowsLong > (Integer.MAX_VALUE - 8) / colsLong) {
      throw new IllegalArgumentException(
          "shape " + Arrays.toString(shape) + " is empty or too large");
    }
    int rows = (int) rowsLong;
    int cols = (int) colsLong;
    SplittableRandom random = new SplittableRandom(seed);
    float[] rowScale = new float[rows];
    for (int i = 0; i < rows; i++) {
      rowScale[i] = (float) (1e-3 * Math.exp(random.nextGaussian()));
    }
    float[] colScale = new float[cols];
    for (int j = 0; j < cols; j++) {
      colScale[j] = shape.length == 2 ? (float) Math.exp(0.5 * random.nextGaussian()) : 1f;
    }
    float[] m = new float[rows * cols];
    float[] v = new float[rows * cols];
    for (int t = 0; t < steps; t++) {
      for (int i = 0; i < rows; i++) {
        for (int j = 0; j < cols; j++) {
          int k = i * cols + j;
          float g =
              (float) (rowScale[i] * colScale[j] * random.nextGaussian()
                  * Math.exp(0.75 * random.nextGaussian()));
          m[k] = BETA1 * m[k] + (1 - BETA1) * g;
          v[k] = BETA2 * v[k] + (1 - BETA2) * g * g;
        }
      }
    }
    return new AdamMoments(shape.clone(), m, v);
  }

  /**
   * The shape as {@code 1024x1024} (or {@code 65537} for a vector).
   *
   * @return the label
   */
  public String label() {
    return String.join("x", Arrays.stream(shape).mapToObj(Long::toString).toList());
  }
}
