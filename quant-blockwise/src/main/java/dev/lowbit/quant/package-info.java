/**
 * LowBit's quantization library and the scalar reference ("oracle") for every faster kernel.
 *
 * <ul>
 *   <li>{@link dev.lowbit.quant.CodeBook}: the quantization maps (dynamic, DE, DE-0, Linear,
 *       linear-square) and the nearest-entry rule, ties to the lower entry.
 *   <li>{@link dev.lowbit.quant.Normalization}: where each element's scale comes from (block-wise
 *       absmax, rank-1, per-tensor).
 *   <li>{@link dev.lowbit.quant.Rounding}: nearest or seeded stochastic rounding.
 *   <li>{@link dev.lowbit.quant.PackedCodes}: the 8- and 4-bit byte layout (low nibble first).
 *   <li>{@link dev.lowbit.quant.BlockwiseQuantizer}, {@link dev.lowbit.quant.Rank1Quantizer}: the
 *       scalar quantize/dequantize loops over {@link java.lang.foreign.MemorySegment}s.
 *   <li>{@link dev.lowbit.quant.QuantizedTensor}: code book + normalization + shape + codes +
 *       scales, the convenient entry point.
 * </ul>
 *
 * <p>See {@code docs/formats.md} for every format, its memory cost and measured errors.
 */
package dev.lowbit.quant;
