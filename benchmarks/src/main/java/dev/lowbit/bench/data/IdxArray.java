package dev.lowbit.bench.data;

import java.util.Arrays;

/**
 * The contents of one IDX file of unsigned bytes: its dimensions and its data in row-major
 * order.
 *
 * @param source where the array was read from, for error messages
 * @param dimensions the sizes from the header, outermost first (all positive)
 * @param data the elements, {@code product(dimensions)} bytes, to be read as unsigned
 */
public record IdxArray(String source, int[] dimensions, byte[] data) {

  /** Copies the dimensions so the record cannot be changed through them. */
  public IdxArray {
    dimensions = dimensions.clone();
  }

  /**
   * The dimensions from the header.
   *
   * @return a copy of the dimensions, outermost first
   */
  @Override
  public int[] dimensions() {
    return dimensions.clone();
  }

  /**
   * The number of items: the first dimension.
   *
   * @return the size of the outermost dimension
   */
  public int count() {
    return dimensions[0];
  }

  @Override
  public String toString() {
    return "IdxArray[" + source + ", " + Arrays.toString(dimensions) + "]";
  }
}
