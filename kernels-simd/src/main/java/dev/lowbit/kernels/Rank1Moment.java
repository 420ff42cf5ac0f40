package dev.lowbit.kernels;

import dev.lowbit.quant.CodeBook;
import java.lang.foreign.MemorySegment;
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
 * the old scales. (For tensors of rank above 2 the optimizer views the tensor as
 * {@code (prod of leading dims) x last dim}, passes per-row scales it derives from its per-dim
 * statistics, and folds the returned row maxima back into them.)
 *
 * @param book the code book (4 or 8 bits, packed as in {@link MomentState})
 * @param rows rows of the view
 * @param cols columns of the view
 * @param codes the packed codes, {@code rows * cols} of them
 * @param rowScales {@code rows} floats
 * @param colScales {@code cols} floats
 */
public record Rank1Moment(
    CodeBook book, long rows, long cols, MemorySegment codes, MemorySegment rowScales,
    MemorySegment colScales)
    implements MomentState {

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
   * @throws IllegalArgumentException if {@code rows} or {@code cols} is negative or
   *     {@code rows * cols} overflows a long
   */
  public Rank1Moment {
    Objects.requireNonNull(book, "book");
    Objects.requireNonNull(codes, "codes");
    Objects.requireNonNull(rowScales, "rowScales");
    Objects.requireNonNull(colScales, "colScales");
    Dimensions.check(new String[] {"rows", "cols"}, rows, cols);
  }
}
