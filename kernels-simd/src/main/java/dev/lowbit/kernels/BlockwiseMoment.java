package dev.lowbit.kernels;

import dev.lowbit.quant.CodeBook;
import java.lang.foreign.MemorySegment;

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
public record BlockwiseMoment(CodeBook book, int blockSize, MemorySegment codes, MemorySegment scales)
    implements MomentState {}
