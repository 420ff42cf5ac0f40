package dev.lowbit.optim;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * A registered parameter: its name, shape and float32 values (row-major, native byte order), as
 * subclasses of {@link Optimizer} see it.
 *
 * @param name the parameter name
 * @param shape the dimensions (a copy; rank 0 is a scalar)
 * @param values {@code length} floats, updated in place by steps
 * @param length the number of elements, the product of {@code shape}
 */
public record Parameter(String name, long[] shape, MemorySegment values, long length) {

  /**
   * Copies the shape so that later changes to the caller's array cannot reach it.
   *
   * @param name the parameter name
   * @param shape the dimensions
   * @param values the values
   * @param length the number of elements
   */
  public Parameter {
    shape = shape.clone();
  }

  /**
   * The dimensions.
   *
   * @return a copy of the shape
   */
  @Override
  public long[] shape() {
    return shape.clone();
  }

  /**
   * Dimension {@code d}.
   *
   * @param d the dimension index
   * @return its size
   */
  public long dim(int d) {
    return shape[d];
  }

  /**
   * The rank (number of dimensions).
   *
   * @return the rank
   */
  public int rank() {
    return shape.length;
  }

  /**
   * The product of {@code shape}, checked for negative sizes and overflow.
   *
   * @param name the parameter name, for the error message
   * @param shape the dimensions
   * @return the number of elements
   * @throws IllegalArgumentException if a dimension is negative or the product overflows
   */
  static long elementCount(String name, long[] shape) {
    long n = 1;
    for (int d = 0; d < shape.length; d++) {
      if (shape[d] < 0) {
        throw new IllegalArgumentException(
            "parameter '" + name + "': shape " + Arrays.toString(shape) + " has negative dimension "
                + d);
      }
      try {
        n = Math.multiplyExact(n, shape[d]);
        Math.multiplyExact(n, 4L);
      } catch (ArithmeticException e) {
        throw new IllegalArgumentException(
            "parameter '" + name + "': shape " + Arrays.toString(shape) + " is too large", e);
      }
    }
    return n;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Parameter p
        && name.equals(p.name)
        && Arrays.equals(shape, p.shape)
        && values.equals(p.values)
        && length == p.length;
  }

  @Override
  public int hashCode() {
    return name.hashCode() * 31 + Arrays.hashCode(shape);
  }

  @Override
  public String toString() {
    return name + Arrays.toString(shape);
  }
}
