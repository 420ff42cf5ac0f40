package dev.lowbit.quant;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * The scalar reference quantizer for block-wise absmax normalization (and per-tensor, which is one
 * block spanning the tensor): the oracle the SIMD kernels must match byte for byte.
 *
 * <p>For block {@code k} (elements {@code [k·B, min((k+1)·B, length))}):
 * <pre>
 * scale_k = max |x_i| over the block
 * code_i  = scale_k == 0 ? book.encode(0) : rounding(x_i / scale_k)
 * x̂_i     = book.value(code_i) · scale_k
 * </pre>
 * Codes are packed as described in {@link PackedCodes}; scales are float32 in native byte order.
 * Inputs are checked (sizes, read-only outputs, then finiteness) before anything is written, so a
 * rejected call leaves codes and scales as they were.
 */
public final class BlockwiseQuantizer {
  private BlockwiseQuantizer() {}

  /**
   * Quantizes {@code length} floats of {@code src}, block by block.
   *
   * @param book the code book
   * @param blockSize a power of two from 32 to 4096
   * @param src at least {@code length} float32 values
   * @param length the element count ({@code >= 0})
   * @param codes at least {@link PackedCodes#byteSize} bytes; receives the codes
   * @param scales at least {@code ceil(length / blockSize)} floats; receives the scales
   * @param rounding nearest or stochastic
   * @throws IllegalArgumentException if a size is wrong, {@code codes} or {@code scales} is
   *     read-only, or {@code src} holds NaN or infinity (the message names the first bad index);
   *     nothing is written then
   */
  public static void quantize(
      CodeBook book, int blockSize, MemorySegment src, long length, MemorySegment codes,
      MemorySegment scales, Rounding rounding) {
    long blocks = Normalization.blockWise(blockSize).blockCount(length);
    quantizeBlocks(book, blockSize, src, length, codes, scales, 0, blocks, rounding);
  }

  /**
   * Quantizes the blocks {@code [firstBlock, firstBlock + blockCount)} only: what one worker
   * thread does with its share of a large tensor. Element indices (and so stochastic rounding)
   * are those of the whole tensor, so any split gives the same bytes as {@link #quantize}.
   *
   * @param book the code book
   * @param blockSize a power of two from 32 to 4096
   * @param src the whole tensor's input, at least {@code length} floats
   * @param length the whole tensor's element count
   * @param codes the whole tensor's codes
   * @param scales the whole tensor's scales
   * @param firstBlock the first block to quantize
   * @param blockCount how many blocks
   * @param rounding nearest or stochastic
   * @throws IllegalArgumentException if a size or the block range is wrong, {@code codes} or
   *     {@code scales} is read-only, or the range holds a non-finite value; nothing is written then
   */
  public static void quantizeBlocks(
      CodeBook book, int blockSize, MemorySegment src, long length, MemorySegment codes,
      MemorySegment scales, long firstBlock, long blockCount, Rounding rounding) {
    Objects.requireNonNull(book, "book");
    Objects.requireNonNull(rounding, "rounding");
    long blocks = checkSizes(book, blockSize, "src", src, length, codes, scales);
    Checks.writable("codes", codes);
    Checks.writable("scales", scales);
    if (firstBlock < 0 || blockCount < 0 || firstBlock > blocks - blockCount) {
      throw new IllegalArgumentException(
          "blocks [" + firstBlock + ", " + firstBlock + " + " + blockCount + ") are outside the "
              + blocks + " blocks of the tensor");
    }
    long from = firstBlock * blockSize;
    long to = Math.min(length, (firstBlock + blockCount) * blockSize);
    Checks.finite("src", src, from, to);
    for (long k = firstBlock; k < firstBlock + blockCount; k++) {
      long start = k * blockSize;
      long end = Math.min(length, start + blockSize);
      float scale = absMax(src, start, end);
      scales.setAtIndex(Checks.FLOAT, k, scale);
      encodeRange(book, src, codes, start, end, scale, rounding);
    }
    if (blockCount > 0 && to == length) {
      PackedCodes.clearPadding(codes, book.bits(), length);
    }
  }

  /**
   * Decodes {@code length} elements into {@code dst}: {@code book.value(code_i) · scale_k}.
   *
   * @param book the code book the codes were written with
   * @param blockSize the block size they were written with
   * @param codes the packed codes
   * @param scales the block scales
   * @param length the element count
   * @param dst at least {@code length} floats; receives the values
   * @throws IllegalArgumentException if a size is wrong, {@code dst} is read-only or a code is not
   *     an entry of the book; nothing is written then
   */
  public static void dequantize(
      CodeBook book, int blockSize, MemorySegment codes, MemorySegment scales, long length,
      MemorySegment dst) {
    Objects.requireNonNull(book, "book");
    checkSizes(book, blockSize, "dst", dst, length, codes, scales);
    Checks.writable("dst", dst);
    Checks.codesInRange(book, codes, length);
    long blocks = Normalization.blockWise(blockSize).blockCount(length);
    for (long k = 0; k < blocks; k++) {
      long start = k * blockSize;
      long end = Math.min(length, start + blockSize);
      decodeRange(book, codes, dst, start, end, scales.getAtIndex(Checks.FLOAT, k));
    }
  }

  /**
   * Per-tensor quantization: one scale, {@code max |x|} over all {@code length} elements.
   *
   * @param book the code book
   * @param src at least {@code length} floats
   * @param length the element count
   * @param codes receives the codes
   * @param scale at least one float; receives the scale
   * @param rounding nearest or stochastic
   * @throws IllegalArgumentException if a size is wrong, {@code codes} or {@code scale} is
   *     read-only, or {@code src} holds NaN or infinity; nothing is written then
   */
  public static void quantizePerTensor(
      CodeBook book, MemorySegment src, long length, MemorySegment codes, MemorySegment scale,
      Rounding rounding) {
    Objects.requireNonNull(book, "book");
    Objects.requireNonNull(rounding, "rounding");
    checkPerTensorSizes(book, "src", src, length, codes, scale);
    Checks.writable("codes", codes);
    Checks.writable("scale", scale);
    Checks.finite("src", src, 0, length);
    float s = absMax(src, 0, length);
    scale.setAtIndex(Checks.FLOAT, 0, s);
    encodeRange(book, src, codes, 0, length, s, rounding);
    PackedCodes.clearPadding(codes, book.bits(), length);
  }

  /**
   * Decodes a per-tensor quantized tensor.
   *
   * @param book the code book
   * @param codes the packed codes
   * @param scale the single scale
   * @param length the element count
   * @param dst receives the values
   * @throws IllegalArgumentException if a size is wrong, {@code dst} is read-only or a code is not
   *     an entry of the book; nothing is written then
   */
  public static void dequantizePerTensor(
      CodeBook book, MemorySegment codes, MemorySegment scale, long length, MemorySegment dst) {
    Objects.requireNonNull(book, "book");
    checkPerTensorSizes(book, "dst", dst, length, codes, scale);
    Checks.writable("dst", dst);
    Checks.codesInRange(book, codes, length);
    decodeRange(book, codes, dst, 0, length, scale.getAtIndex(Checks.FLOAT, 0));
  }

  /** {@code max |x|} over {@code [start, end)}; 0 for an empty range. */
  static float absMax(MemorySegment src, long start, long end) {
    float max = 0f;
    for (long i = start; i < end; i++) {
      max = Math.max(max, Math.abs(src.getAtIndex(Checks.FLOAT, i)));
    }
    return max;
  }

  /** Encodes {@code [start, end)} with one scale: the contract formula, written once. */
  static void encodeRange(
      CodeBook book, MemorySegment src, MemorySegment codes, long start, long end, float scale,
      Rounding rounding) {
    int bits = book.bits();
    for (long i = start; i < end; i++) {
      PackedCodes.write(
          codes, bits, i, encode(book, src.getAtIndex(Checks.FLOAT, i), scale, i, rounding));
    }
  }

  /** One element: {@code rounding(x / scale)}, or {@code book.encode(0)} when the scale is 0. */
  static int encode(CodeBook book, float x, float scale, long index, Rounding rounding) {
    return scale == 0f ? book.encode(0f) : rounding.encode(book, x / scale, index);
  }

  private static void decodeRange(
      CodeBook book, MemorySegment codes, MemorySegment dst, long start, long end, float scale) {
    int bits = book.bits();
    for (long i = start; i < end; i++) {
      dst.setAtIndex(Checks.FLOAT, i, book.decode(PackedCodes.read(codes, bits, i), scale));
    }
  }

  private static long checkSizes(
      CodeBook book, int blockSize, String valuesName, MemorySegment values, long length,
      MemorySegment codes, MemorySegment scales) {
    long blocks = Normalization.blockWise(blockSize).blockCount(length); // refuses length < 0
    Checks.atLeastFloats(valuesName, values, length);
    Checks.atLeast("codes", codes, PackedCodes.byteSize(book.bits(), length));
    Checks.atLeastFloats("scales", scales, blocks);
    return blocks;
  }

  private static void checkPerTensorSizes(
      CodeBook book, String valuesName, MemorySegment values, long length, MemorySegment codes,
      MemorySegment scale) {
    Checks.length(length);
    Checks.atLeastFloats(valuesName, values, length);
    Checks.atLeast("codes", codes, PackedCodes.byteSize(book.bits(), length));
    Checks.atLeast("scale", scale, 4L);
  }
}
