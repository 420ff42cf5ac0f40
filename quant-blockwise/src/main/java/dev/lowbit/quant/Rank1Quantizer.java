package dev.lowbit.quant;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Objects;

/**
 * The scalar reference quantizer for rank-1 normalization of a tensor of rank {@code k >= 2}
 * (row-major; the last dimension varies fastest).
 *
 * <pre>
 * s_d[a]  = max |x| over all elements whose index in dimension d is a     (one vector per dim)
 * scale   = min_d s_d[a_d]                 for the element (a_0, ..., a_{k-1})
 * code    = scale == 0 ? book.encode(0) : rounding(x / scale)
 * x̂       = book.value(code) · scale
 * </pre>
 * For a matrix, {@code s_0} holds the row maxima and {@code s_1} the column maxima, so the scale
 * of {@code (i, j)} is {@code min(rowMax_i, colMax_j)}. Because {@code |x| <= s_d[a_d]} for every
 * {@code d}, {@code |x / scale| <= 1}. Only the vectors are stored, concatenated in dimension
 * order: {@code sum(shape)} floats.
 */
public final class Rank1Quantizer {
  private Rank1Quantizer() {}

  /**
   * Quantizes a tensor of rank {@code >= 2}.
   *
   * @param book the code book
   * @param shape the dimensions, at least two
   * @param src the {@code prod(shape)} input floats, at least
   * @param codes receives the packed codes
   * @param scales receives the {@code sum(shape)} max vectors
   * @param rounding nearest or stochastic
   * @throws IllegalArgumentException if the rank is below 2, a size is wrong, {@code codes} or
   *     {@code scales} is read-only, or {@code src} holds NaN or infinity (the message names the
   *     first bad index); nothing is written then
   */
  public static void quantize(
      CodeBook book, long[] shape, MemorySegment src, MemorySegment codes, MemorySegment scales,
      Rounding rounding) {
    Objects.requireNonNull(book, "book");
    Objects.requireNonNull(rounding, "rounding");
    long length = checkSizes(book, shape, "src", src, codes, scales);
    Checks.writable("codes", codes);
    Checks.writable("scales", scales);
    Checks.finite("src", src, 0, length);
    long[] offsets = offsets(shape);
    scales.asSlice(0, offsets[shape.length] * 4L).fill((byte) 0);
    long[] index = new long[shape.length];
    for (long i = 0; i < length; i++) {
      float a = Math.abs(src.getAtIndex(Checks.FLOAT, i));
      for (int d = 0; d < shape.length; d++) {
        long at = offsets[d] + index[d];
        scales.setAtIndex(Checks.FLOAT, at, Math.max(scales.getAtIndex(Checks.FLOAT, at), a));
      }
      advance(index, shape);
    }
    // advance wrapped index back to all zeros after the last element: the second pass starts there.
    int bits = book.bits();
    for (long i = 0; i < length; i++) {
      float x = src.getAtIndex(Checks.FLOAT, i);
      float scale = scaleOf(scales, offsets, index);
      PackedCodes.write(codes, bits, i, BlockwiseQuantizer.encode(book, x, scale, i, rounding));
      advance(index, shape);
    }
    PackedCodes.clearPadding(codes, bits, length);
  }

  /**
   * Decodes a rank-1 quantized tensor: {@code book.value(code) · min_d s_d[a_d]}.
   *
   * @param book the code book the codes were written with
   * @param shape the dimensions, at least two
   * @param codes the packed codes
   * @param scales the {@code sum(shape)} max vectors
   * @param dst receives the {@code prod(shape)} values
   * @throws IllegalArgumentException if the rank is below 2, a size is wrong, {@code dst} is
   *     read-only or a code is not an entry of the book; nothing is written then
   */
  public static void dequantize(
      CodeBook book, long[] shape, MemorySegment codes, MemorySegment scales, MemorySegment dst) {
    Objects.requireNonNull(book, "book");
    long length = checkSizes(book, shape, "dst", dst, codes, scales);
    Checks.writable("dst", dst);
    Checks.codesInRange(book, codes, length);
    long[] offsets = offsets(shape);
    long[] index = new long[shape.length];
    int bits = book.bits();
    for (long i = 0; i < length; i++) {
      float scale = scaleOf(scales, offsets, index);
      dst.setAtIndex(Checks.FLOAT, i, book.decode(PackedCodes.read(codes, bits, i), scale));
      advance(index, shape);
    }
  }

  private static float scaleOf(MemorySegment scales, long[] offsets, long[] index) {
    float scale = Float.POSITIVE_INFINITY;
    for (int d = 0; d < index.length; d++) {
      scale = Math.min(scale, scales.getAtIndex(Checks.FLOAT, offsets[d] + index[d]));
    }
    return scale;
  }

  /** Steps a row-major multi-index to the next element (the last dimension fastest). */
  private static void advance(long[] index, long[] shape) {
    for (int d = shape.length - 1; d >= 0; d--) {
      if (++index[d] < shape[d]) {
        return;
      }
      index[d] = 0;
    }
  }

  /** Where each dimension's vector starts in the scales; the last entry is {@code sum(shape)}. */
  private static long[] offsets(long[] shape) {
    long[] offsets = new long[shape.length + 1];
    for (int d = 0; d < shape.length; d++) {
      offsets[d + 1] = offsets[d] + shape[d];
    }
    return offsets;
  }

  private static long checkSizes(
      CodeBook book, long[] shape, String valuesName, MemorySegment values, MemorySegment codes,
      MemorySegment scales) {
    Objects.requireNonNull(shape, "shape");
    if (shape.length < 2) {
      throw new IllegalArgumentException(
          "rank-1 normalization needs a tensor of rank >= 2, got shape " + Arrays.toString(shape)
              + " (rank-1 tensors use block-wise " + Normalization.RANK1_FALLBACK_BLOCK_SIZE + ")");
    }
    long length = Shapes.elementCount(shape);
    long scaleCount = Normalization.rank1().scaleCount(shape);
    Checks.atLeastFloats(valuesName, values, length);
    Checks.atLeast("codes", codes, PackedCodes.byteSize(book.bits(), length));
    Checks.atLeastFloats("scales", scales, scaleCount);
    return length;
  }
}
