package dev.lowbit.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Moves one vector of packed codes between memory and int lanes (layouts in {@link MomentState}).
 * Element {@code first} of a 4-bit load or store must be even, so a vector covers whole bytes.
 * Byte-wise layouts are little-endian by definition, so words are read little-endian.
 */
final class SimdCodes {

  private static final ValueLayout.OfShort SHORT_LE =
      ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfInt INT_LE =
      ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfLong LONG_LE =
      ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  private SimdCodes() {}

  /**
   * Codes of elements {@code [first, first + lanes)}.
   *
   * @param shape vector width
   * @param codes the packed codes
   * @param bits 4 or 8
   * @param first first element (even for 4 bits)
   * @return one code per lane
   */
  static IntVector load(SimdShape shape, MemorySegment codes, int bits, long first) {
    // One flat method (no helpers) keeps the vector calls shallow enough for the JIT to inline.
    VectorSpecies<Integer> ints = shape.ints();
    int lanes = ints.length();
    if (bits == 8 && lanes == 16) {
      return (IntVector)
          ByteVector.fromMemorySegment(
                  ByteVector.SPECIES_128, codes, first, ByteOrder.LITTLE_ENDIAN)
              .convertShape(VectorOperators.ZERO_EXTEND_B2I, ints, 0);
    }
    if (bits == 8 && lanes == 8) {
      return (IntVector)
          ByteVector.fromMemorySegment(ByteVector.SPECIES_64, codes, first, ByteOrder.LITTLE_ENDIAN)
              .convertShape(VectorOperators.ZERO_EXTEND_B2I, ints, 0);
    }
    IntVector iota = IntVector.zero(ints).addIndex(1);
    if (bits == 8) {
      // No 4-lane byte species exists: spread one 32-bit word over the lanes.
      return IntVector.broadcast(ints, codes.get(INT_LE, first))
          .lanewise(VectorOperators.LSHR, iota.lanewise(VectorOperators.LSHL, 3))
          .and(0xFF);
    }
    long at = first >>> 1;
    IntVector words;
    if (lanes == 16) {
      long w = codes.get(LONG_LE, at);
      words =
          IntVector.broadcast(ints, (int) w)
              .blend((int) (w >>> 32), iota.compare(VectorOperators.GE, 8));
    } else if (lanes == 8) {
      words = IntVector.broadcast(ints, codes.get(INT_LE, at));
    } else {
      words = IntVector.broadcast(ints, codes.get(SHORT_LE, at) & 0xFFFF);
    }
    return words
        .lanewise(VectorOperators.LSHR, iota.lanewise(VectorOperators.LSHL, 2).and(31))
        .and(0xF);
  }

  /**
   * Stores one code per lane for elements {@code [first, first + lanes)}.
   *
   * @param shape vector width
   * @param c the codes, each in {@code [0, 2^bits)}
   * @param codes the packed codes
   * @param bits 4 or 8
   * @param first first element (even for 4 bits)
   */
  static void store(SimdShape shape, IntVector c, MemorySegment codes, int bits, long first) {
    int lanes = c.length();
    if (bits == 8 && lanes == 16) {
      c.convertShape(VectorOperators.I2B, ByteVector.SPECIES_128, 0)
          .reinterpretAsBytes()
          .intoMemorySegment(codes, first, ByteOrder.LITTLE_ENDIAN);
    } else if (bits == 8 && lanes == 8) {
      c.convertShape(VectorOperators.I2B, ByteVector.SPECIES_64, 0)
          .reinterpretAsBytes()
          .intoMemorySegment(codes, first, ByteOrder.LITTLE_ENDIAN);
    } else if (bits == 8) {
      IntVector shifts = IntVector.zero(shape.ints()).addIndex(8);
      codes.set(
          INT_LE, first, c.lanewise(VectorOperators.LSHL, shifts).reduceLanes(VectorOperators.OR));
    } else if (lanes == 16) {
      // Lane j of the long view holds codes 2j (bits 0..3) and 2j+1 (bits 32..35): fold the
      // second next to the first, then narrow each long to its low byte.
      LongVector pairs = c.reinterpretAsLongs();
      pairs
          .or(pairs.lanewise(VectorOperators.LSHR, 28))
          .and(0xFFL)
          .convertShape(VectorOperators.L2B, ByteVector.SPECIES_64, 0)
          .reinterpretAsBytes()
          .intoMemorySegment(codes, first >>> 1, ByteOrder.LITTLE_ENDIAN);
    } else {
      IntVector shifts = IntVector.zero(shape.ints()).addIndex(4);
      int packed = c.lanewise(VectorOperators.LSHL, shifts).reduceLanes(VectorOperators.OR);
      if (lanes == 8) {
        codes.set(INT_LE, first >>> 1, packed);
      } else {
        codes.set(SHORT_LE, first >>> 1, (short) packed);
      }
    }
  }
}
