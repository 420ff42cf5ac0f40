package dev.lowbit.kernels;

/**
 * Where one optimizer moment (Adam's m or v, SGD's momentum buffer) lives and how it is stored.
 * The segments are owned by the optimizer; kernels read and rewrite them in place.
 *
 * <p>Byte layouts (native byte order for floats):
 * <ul>
 *   <li>8-bit codes: one byte per element, element {@code i} at byte {@code i}.
 *   <li>4-bit codes: two per byte, element {@code i} at byte {@code i >> 1}, in the <b>low</b>
 *       nibble when {@code i} is even and the high nibble when it is odd.
 *   <li>scales and statistics: one float32 each.
 * </ul>
 *
 * <p>With 4-bit codes and an odd length, the unused high nibble of the last byte is padding:
 * kernels write it as 0 (as quant-blockwise's quantizers do), so equal codes always mean equal
 * bytes.
 */
public sealed interface MomentState
    permits Fp32Moment, BlockwiseMoment, Rank1Moment, FactorizedMoment {}
