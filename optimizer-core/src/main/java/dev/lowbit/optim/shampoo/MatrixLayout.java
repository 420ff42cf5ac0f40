package dev.lowbit.optim.shampoo;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * How Shampoo sees a parameter: the tensor reshaped to a matrix {@code (d0, -1)} after dropping
 * size-1 dimensions, cut into blocks of at most {@code maxDim} rows and columns. Each block gets
 * its own left and right preconditioner.
 *
 * <p>Blocks split a dimension evenly: {@code k = ceil(d / maxDim)} parts whose sizes differ by at
 * most one (4096 rows with {@code maxDim = 1200} become 4 x 1024, not 3 x 1200 + 496), so no
 * block gets a tiny, poorly estimated preconditioner.
 *
 * @param rows the matrix rows ({@code d0})
 * @param cols the matrix columns (the product of the other dimensions)
 * @param blocks the blocks, row-major
 */
record MatrixLayout(int rows, int cols, List<Block> blocks) {

  /**
   * One block of the matrix.
   *
   * @param rowStart first row
   * @param rows number of rows
   * @param colStart first column
   * @param cols number of columns
   */
  record Block(int rowStart, int rows, int colStart, int cols) {}

  /**
   * The layout of a parameter, or null when it gets no preconditioner (rank at most 1 after
   * dropping size-1 dimensions, or no elements).
   *
   * @param name the parameter name, for the error message
   * @param shape its shape
   * @param maxDim the largest preconditioner order
   * @return the layout, or null
   * @throws IllegalArgumentException if the tensor is too large to precondition
   */
  static MatrixLayout of(String name, long[] shape, int maxDim) {
    long[] kept = Arrays.stream(shape).filter(d -> d != 1).toArray();
    if (kept.length <= 1 || Arrays.stream(kept).anyMatch(d -> d == 0)) {
      return null;
    }
    long rows = kept[0];
    long cols = 1;
    for (int i = 1; i < kept.length; i++) {
      cols *= kept[i];
    }
    if (rows * cols > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(
          "parameter '" + name + "': shape " + Arrays.toString(shape)
              + " has too many elements for Shampoo (at most 2^31 - 9)");
    }
    List<Block> blocks = new ArrayList<>();
    int[][] rowParts = split((int) rows, maxDim);
    int[][] colParts = split((int) cols, maxDim);
    for (int[] r : rowParts) {
      for (int[] c : colParts) {
        blocks.add(new Block(r[0], r[1], c[0], c[1]));
      }
    }
    return new MatrixLayout((int) rows, (int) cols, List.copyOf(blocks));
  }

  /** {start, length} of each of the {@code ceil(n / maxDim)} near-equal parts of {@code n}. */
  static int[][] split(int n, int maxDim) {
    // Not (n + maxDim - 1) / maxDim: that overflows int for a maxDim near Integer.MAX_VALUE.
    int parts = n / maxDim + (n % maxDim == 0 ? 0 : 1);
    int[][] out = new int[parts][];
    int start = 0;
    for (int k = 0; k < parts; k++) {
      int length = n / parts + (k < n % parts ? 1 : 0);
      out[k] = new int[] {start, length};
      start += length;
    }
    return out;
  }
}
