package dev.lowbit.kernels;

import dev.lowbit.quant.CodeBook;
import dev.lowbit.quant.Normalization;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * A moment quantized block-wise: the flattened tensor is cut into blocks of {@code blockSize}
 * elements (the last one may be partial); each block has one float32 scale, the absolute maximum
 * of its values. Element {@code i} decodes to {@code book.value(code_i) * scale[i / blockSize]}.
 * A new value {@code x} is encoded as {@code book.encode(x / scale)}, or {@code book.encode(0f)}
 * when the block's scale is 0.
 *
 * @param book the code book; its {@code bits()} decides the packing (see {@link MomentState})
 * @param blockSize a power of two from 32 to 4096
 * @param codes the packed codes
 * @param scales one float per block: {@code ceil(length / blockSize)} floats
 */
public record BlockwiseMoment(
    CodeBook book, int blockSize, MemorySegment codes, MemorySegment scales)
    implements MomentState {

  /**
   * Checks the block size (the kernels cut chunks into whole blocks and rely on it) and that no
   * component is null. The segment sizes are checked by the optimizer that owns them.
   *
   * @param book the code book
   * @param blockSize a power of two from 32 to 4096
   * @param codes the packed codes
   * @param scales the block scales
   * @throws IllegalArgumentException if {@code blockSize} is not such a power of two
   */
  public BlockwiseMoment {
    Objects.requireNonNull(book, "book");
    Objects.requireNonNull(codes, "codes");
    Objects.requireNonNull(scales, "scales");
    if (blockSize < Normalization.MIN_BLOCK_SIZE
        || blockSize > Normalization.MAX_BLOCK_SIZE
        || Integer.bitCount(blockSize) != 1) {
      throw new IllegalArgumentException(
          "blockSize must be a power of two from " + Normalization.MIN_BLOCK_SIZE + " to "
              + Normalization.MAX_BLOCK_SIZE + ", got " + blockSize);
    }
  }
}
