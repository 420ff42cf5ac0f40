package dev.lowbit.kernels;

import dev.lowbit.quant.CodeBook;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Objects;

/**
 * A moment quantized with rank-1 normalization over a {@code rows x cols} view of the tensor
 * (row-major; element {@code (i, j)} is flat index {@code i * cols + j}). The scale of element
 * {@code (i, j)} is {@code min(rowScales[i], colScales[j])}; it decodes to
 * {@code book.value(code) * scale} and a new value {@code x} is encoded as
 * {@code book.encode(x / scale)}, or {@code book.encode(0f)} when that scale is 0.
 *
 * <p>After a step, {@code rowScales[i]} holds the new {@code max_j |x_ij|} and
 * {@code colScales[j]} the new {@code max_i |x_ij|}, computed from the new values before they are
 * quantized: an Adam step computes every new value twice, once (pass 1) to find the new maxima
 * and once (pass 2, with the same float operations) to update and encode with them; decoding uses
 * the old scales.
 *
 * <p>A tensor of rank above 2 is viewed as {@code (prod of leading dims) x last dim}, with
 * {@code rowDims} its leading dimensions. Its state keeps one max vector per dimension, and the
 * scale of element {@code (i0, ..., j)} is the min over all of them; so a row's scale is the min
 * over the leading dimensions' vectors ({@code rowScales} passed in), and a step encodes with
 * the new such scales: each leading dimension's new max vector is the max of the new row maxima
 * sharing its index, and a row's new scale is the min of its entries in those vectors (never
 * below the row's own maximum). After the step {@code rowScales} holds those row scales, not the
 * row maxima; folding them back into per-dimension maxima gives the new max vectors exactly.
 *
 * <p>Equality and {@code toString} take {@code rowDims} by content (a record would compare and
 * print the array reference). The segments compare as {@link MemorySegment#equals} does: the same
 * region of memory, not the same contents. A moment is a view of its state, whose contents every
 * step rewrites: content equality would change under a map holding the moment as a key, and cost
 * a pass over the state; two views of the same memory are the same moment.
 *
 * @param book the code book (4 or 8 bits, packed as in {@link MomentState})
 * @param rows rows of the view
 * @param cols columns of the view
 * @param codes the packed codes, {@code rows * cols} of them
 * @param rowScales {@code rows} floats
 * @param colScales {@code cols} floats
 * @param rowDims null for a matrix; for a tensor of rank above 2 its leading dimensions, whose
 *     product is {@code rows}
 */
public record Rank1Moment(
    CodeBook book, long rows, long cols, MemorySegment codes, MemorySegment rowScales,
    MemorySegment colScales, long[] rowDims)
    implements MomentState {

  /**
   * A rank-1 moment of a matrix ({@code rowDims} null).
   *
   * @param book the code book
   * @param rows rows, {@code >= 0}
   * @param cols columns, {@code >= 0}
   * @param codes the packed codes
   * @param rowScales the row scales
   * @param colScales the column scales
   * @throws IllegalArgumentException if {@code rows} or {@code cols} is negative or
   *     {@code rows * cols} overflows a long
   */
  public Rank1Moment(
      CodeBook book, long rows, long cols, MemorySegment codes, MemorySegment rowScales,
      MemorySegment colScales) {
    this(book, rows, cols, codes, rowScales, colScales, null);
  }

  /**
   * Checks the dimensions and that no component is null. The segment sizes are checked by the
   * optimizer that owns them.
   *
   * @param book the code book
   * @param rows rows of the view, {@code >= 0}
   * @param cols columns of the view, {@code >= 0}
   * @param codes the packed codes
   * @param rowScales the row scales
   * @param colScales the column scales
   * @param rowDims null, or the leading dimensions (copied), whose product must be {@code rows}
   * @throws IllegalArgumentException if {@code rows} or {@code cols} is negative,
   *     {@code rows * cols} overflows a long, or {@code rowDims} does not multiply to
   *     {@code rows}
   */
  public Rank1Moment {
    Objects.requireNonNull(book, "book");
    Objects.requireNonNull(codes, "codes");
    Objects.requireNonNull(rowScales, "rowScales");
    Objects.requireNonNull(colScales, "colScales");
    Dimensions.check(new String[] {"rows", "cols"}, rows, cols);
    if (rowDims != null) {
      rowDims = rowDims.clone();
      String[] names = new String[rowDims.length];
      Arrays.setAll(names, d -> "rowDims[" + d + "]");
      if (Dimensions.check(names, rowDims) != rows) {
        throw new IllegalArgumentException(
            "rowDims " + Arrays.toString(rowDims) + " do not multiply to rows " + rows);
      }
    }
  }

  /**
   * The leading dimensions of a tensor of rank above 2, or null for a matrix.
   *
   * @return a copy, or null
   */
  @Override
  public long[] rowDims() {
    return rowDims == null ? null : rowDims.clone();
  }

  /**
   * Whether {@code o} is a rank-1 moment with an equal book, the same dimensions, equal
   * {@code rowDims} contents (or both null) and segments over the same memory (see the class
   * javadoc).
   *
   * @param o the other object
   * @return true if equal
   */
  @Override
  public boolean equals(Object o) {
    return o instanceof Rank1Moment r
        && book.equals(r.book)
        && rows == r.rows
        && cols == r.cols
        && codes.equals(r.codes)
        && rowScales.equals(r.rowScales)
        && colScales.equals(r.colScales)
        && Arrays.equals(rowDims, r.rowDims);
  }

  /**
   * A hash consistent with {@link #equals}: {@code rowDims} by content.
   *
   * @return the hash code
   */
  @Override
  public int hashCode() {
    return Objects.hash(book, rows, cols, codes, rowScales, colScales) * 31
        + Arrays.hashCode(rowDims);
  }

  /**
   * The record's usual form, with {@code rowDims} as its values (for example {@code [3, 4]}) or
   * {@code null}.
   *
   * @return the description
   */
  @Override
  public String toString() {
    return "Rank1Moment[book=" + book + ", rows=" + rows + ", cols=" + cols + ", codes=" + codes
        + ", rowScales=" + rowScales + ", colScales=" + colScales + ", rowDims="
        + Arrays.toString(rowDims) + "]";
  }
}
