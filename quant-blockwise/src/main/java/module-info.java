/**
 * Code books, normalizations, packed 8/4-bit storage and the scalar reference quantizer: the
 * oracle every faster implementation in LowBit is tested against. No Vector API, no DJL.
 */
module dev.lowbit.quant {
  exports dev.lowbit.quant;
}
