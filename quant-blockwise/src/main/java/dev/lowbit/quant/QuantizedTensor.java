package dev.lowbit.quant;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Objects;

/**
 * A tensor stored in 8 or 4 bits: a code book, a normalization, a shape, the packed codes and the
 * float32 scales. Sizes are {@code long}, so one tensor may exceed 2 GiB when its segments are
 * native or memory-mapped.
 *
 * <pre>
 * quantize:   code_i = scale_i == 0 ? book.encode(0) : rounding(x_i / scale_i)
 * dequantize: x̂_i   = book.value(code_i) · scale_i
 * </pre>
 * where {@code scale_i} comes from the {@link Normalization} (see {@link BlockwiseQuantizer} and
 * {@link Rank1Quantizer} for the exact rules). A rejected {@code quantize} (wrong size, NaN or
 * infinity in the input, read-only codes or scales) leaves codes and scales as they were.
 *
 * <p>Not thread-safe: one writer at a time.
 */
public final class QuantizedTensor {
  private final CodeBook book;
  private final Normalization normalization;
  private final long[] shape;
  private final long length;
  private final MemorySegment codes;
  private final MemorySegment scales;

  private QuantizedTensor(
      CodeBook book, Normalization normalization, long[] shape, MemorySegment codes,
      MemorySegment scales) {
    this.book = book;
    this.normalization = normalization;
    this.shape = shape;
    this.length = Shapes.elementCount(shape);
    this.codes = codes;
    this.scales = scales;
  }

  /**
   * A zero-filled tensor on the Java heap. Its code bytes and its scales must each number at most
   * {@code Integer.MAX_VALUE - 8} (the largest array size safe on every JVM); use
   * {@link #allocate(CodeBook, Normalization, Arena, long...)} for larger states.
   *
   * @param book the code book
   * @param normalization the normalization ({@link Normalization#rank1()} on a tensor of rank
   *     below 2 becomes block-wise 128)
   * @param shape the dimensions
   * @return the tensor
   * @throws IllegalArgumentException if the shape is invalid or the codes or scales do not fit in
   *     an array
   */
  public static QuantizedTensor allocate(
      CodeBook book, Normalization normalization, long... shape) {
    Objects.requireNonNull(book, "book");
    long[] dims = Objects.requireNonNull(shape, "shape").clone();
    Normalization effective = Objects.requireNonNull(normalization, "normalization").resolve(dims);
    long codeBytes = PackedCodes.byteSize(book.bits(), Shapes.elementCount(dims));
    long scaleCount = effective.scaleCount(dims);
    if (codeBytes > Integer.MAX_VALUE - 8 || scaleCount > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(
          "shape " + Arrays.toString(dims) + " needs " + codeBytes + " code bytes and "
              + scaleCount + " scales: too large for the heap, allocate from an Arena");
    }
    return new QuantizedTensor(
        book, effective, dims, MemorySegment.ofArray(new byte[(int) codeBytes]),
        MemorySegment.ofArray(new float[(int) scaleCount]));
  }

  /**
   * A zero-filled tensor whose codes and scales are allocated from {@code arena} (native or
   * shared memory; any size).
   *
   * @param book the code book
   * @param normalization the normalization
   * @param arena where the segments come from; they live as long as it does
   * @param shape the dimensions
   * @return the tensor
   * @throws IllegalArgumentException if the shape is invalid
   */
  public static QuantizedTensor allocate(
      CodeBook book, Normalization normalization, Arena arena, long... shape) {
    Objects.requireNonNull(book, "book");
    Objects.requireNonNull(arena, "arena");
    long[] dims = Objects.requireNonNull(shape, "shape").clone();
    Normalization effective = Objects.requireNonNull(normalization, "normalization").resolve(dims);
    long codeBytes = PackedCodes.byteSize(book.bits(), Shapes.elementCount(dims));
    long scaleBytes =
        Checks.floatBytes(
            "shape " + Arrays.toString(dims) + ": scales", effective.scaleCount(dims));
    return new QuantizedTensor(
        book, effective, dims, arena.allocate(codeBytes, 1), arena.allocate(scaleBytes, 4));
  }

  /**
   * A view over existing segments (for example a loaded checkpoint or a memory-mapped file).
   *
   * @param book the code book
   * @param normalization the normalization
   * @param shape the dimensions
   * @param codes exactly {@link #codeBytes} bytes; may be read-only, then the tensor can be
   *     dequantized but {@code quantize} refuses, naming {@code codes}
   * @param scales exactly {@code 4 · scaleCount} bytes; may be read-only, as {@code codes}
   * @return the tensor
   * @throws IllegalArgumentException if a segment has the wrong size
   */
  public static QuantizedTensor wrap(
      CodeBook book, Normalization normalization, long[] shape, MemorySegment codes,
      MemorySegment scales) {
    Objects.requireNonNull(book, "book");
    long[] dims = Objects.requireNonNull(shape, "shape").clone();
    Normalization effective = Objects.requireNonNull(normalization, "normalization").resolve(dims);
    Checks.exactly("codes", codes, PackedCodes.byteSize(book.bits(), Shapes.elementCount(dims)));
    Checks.exactly("scales", scales, Checks.floatBytes("scales", effective.scaleCount(dims)));
    return new QuantizedTensor(book, effective, dims, codes, scales);
  }

  /**
   * Quantizes {@code src} with nearest rounding.
   *
   * @param src exactly {@link #length()} float32 values (heap or native)
   * @throws IllegalArgumentException if {@code src} has the wrong size or holds NaN or infinity
   *     (the message names the first bad index), or the tensor's codes or scales are read-only
   *     (as after {@link #wrap} of read-only segments); the tensor is unchanged then
   */
  public void quantize(MemorySegment src) {
    quantize(src, Rounding.NEAREST);
  }

  /**
   * Quantizes {@code src}.
   *
   * @param src exactly {@link #length()} float32 values (heap or native)
   * @param rounding nearest or stochastic
   * @throws IllegalArgumentException if {@code src} has the wrong size or holds NaN or infinity
   *     (the message names the first bad index), or the tensor's codes or scales are read-only
   *     (as after {@link #wrap} of read-only segments); the tensor is unchanged then
   */
  public void quantize(MemorySegment src, Rounding rounding) {
    Checks.exactlyFloats("src", src, length);
    switch (normalization) {
      case Normalization.BlockWise b ->
          BlockwiseQuantizer.quantize(book, b.blockSize(), src, length, codes, scales, rounding);
      case Normalization.Rank1 r ->
          Rank1Quantizer.quantize(book, shape, src, codes, scales, rounding);
      case Normalization.PerTensor p ->
          BlockwiseQuantizer.quantizePerTensor(book, src, length, codes, scales, rounding);
    }
  }

  /**
   * Quantizes a heap array with nearest rounding.
   *
   * @param src exactly {@link #length()} values
   * @throws IllegalArgumentException as {@link #quantize(MemorySegment)}
   */
  public void quantize(float[] src) {
    quantize(MemorySegment.ofArray(src));
  }

  /**
   * Decodes every element into {@code dst}.
   *
   * @param dst exactly {@link #length()} floats (heap or native)
   * @throws IllegalArgumentException if {@code dst} has the wrong size or is read-only, or a
   *     stored code is not an entry of the book (a damaged state); nothing is written then
   */
  public void dequantize(MemorySegment dst) {
    Checks.exactlyFloats("dst", dst, length);
    switch (normalization) {
      case Normalization.BlockWise b ->
          BlockwiseQuantizer.dequantize(book, b.blockSize(), codes, scales, length, dst);
      case Normalization.Rank1 r -> Rank1Quantizer.dequantize(book, shape, codes, scales, dst);
      case Normalization.PerTensor p ->
          BlockwiseQuantizer.dequantizePerTensor(book, codes, scales, length, dst);
    }
  }

  /**
   * Decodes every element into a new heap array.
   *
   * @return the decoded values
   * @throws IllegalArgumentException if the tensor has more than {@code Integer.MAX_VALUE - 8}
   *     elements (the largest array size safe on every JVM); use {@link #dequantize(MemorySegment)}
   */
  public float[] dequantize() {
    if (length > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(
          "tensor of " + length + " elements does not fit in a float[]; use dequantize(dst)");
    }
    float[] out = new float[(int) length];
    dequantize(MemorySegment.ofArray(out));
    return out;
  }

  /**
   * Bytes of packed codes for {@code length} elements of this book.
   *
   * @param book the code book
   * @param length the element count
   * @return {@code length} (8 bits) or {@code ceil(length / 2)} (4 bits)
   */
  public static long codeBytes(CodeBook book, long length) {
    return PackedCodes.byteSize(book.bits(), length);
  }

  /**
   * The exact state size: code bytes plus 4 bytes per scale.
   *
   * @return bytes of codes and scales
   */
  public long byteSize() {
    return codes.byteSize() + scales.byteSize();
  }

  /**
   * The exact state size of a tensor of this format and shape, without allocating it.
   *
   * @param book the code book
   * @param normalization the normalization
   * @param shape the dimensions
   * @return bytes of codes and scales
   * @throws IllegalArgumentException if the shape is invalid or a size overflows a long (the
   *     message says which)
   */
  public static long byteSize(CodeBook book, Normalization normalization, long... shape) {
    Objects.requireNonNull(book, "book");
    Objects.requireNonNull(normalization, "normalization");
    long[] dims = Objects.requireNonNull(shape, "shape").clone();
    long codeBytes = codeBytes(book, Shapes.elementCount(dims));
    long scaleBytes =
        Checks.floatBytes(
            "shape " + Arrays.toString(dims) + ": scales",
            normalization.resolve(dims).scaleCount(dims));
    if (codeBytes > Long.MAX_VALUE - scaleBytes) {
      throw new IllegalArgumentException(
          "shape " + Arrays.toString(dims) + ": the state size (" + codeBytes + " code bytes + "
              + scaleBytes + " scale bytes) overflows a long");
    }
    return codeBytes + scaleBytes;
  }

  /**
   * The code of one element.
   *
   * @param index an element index in {@code [0, length())}
   * @return its code
   * @throws IndexOutOfBoundsException if the index is out of range
   */
  public int code(long index) {
    Objects.checkIndex(index, length);
    return PackedCodes.read(codes, book.bits(), index);
  }

  /**
   * The code book.
   *
   * @return the book
   */
  public CodeBook book() {
    return book;
  }

  /**
   * The normalization in use (rank-1 on a tensor of rank below 2 reads as block-wise 128).
   *
   * @return the effective normalization
   */
  public Normalization normalization() {
    return normalization;
  }

  /**
   * The dimensions.
   *
   * @return a copy of the shape
   */
  public long[] shape() {
    return shape.clone();
  }

  /**
   * The element count, {@code prod(shape)}.
   *
   * @return the length
   */
  public long length() {
    return length;
  }

  /**
   * The packed codes (live view; see {@link PackedCodes} for the layout).
   *
   * @return the codes segment
   */
  public MemorySegment codes() {
    return codes;
  }

  /**
   * The float32 scales (live view): one per block, the concatenated rank-1 vectors, or one.
   *
   * @return the scales segment
   */
  public MemorySegment scales() {
    return scales;
  }

  @Override
  public String toString() {
    return "QuantizedTensor[" + book.name() + ", " + normalization.label() + ", "
        + Arrays.toString(shape) + "]";
  }
}
