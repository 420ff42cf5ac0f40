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
   * @param shape the vector width
   * @param codes the packed codes
   * @param bits 4 or 8
   * @param first first element (even for 4 bits)
   * @return one code per lane
   */
  static IntVector load(SimdShape shape, MemorySegment codes, int bits, long first) {
    return bits == 8 ? load8(shape, codes, first) : load4(shape, codes, first);
  }

  /**
   * Stores one code per lane for elements {@code [first, first + lanes)}.
   *
   * @param shape the vector width
   * @param c the codes, each in {@code [0, 2^bits)}
   * @param codes the packed codes
   * @param bits 4 or 8
   * @param first first element (even for 4 bits)
   */
  static void store(SimdShape shape, IntVector c, MemorySegment codes, int bits, long first) {
    if (bits == 8) {
      store8(shape, c, codes, first);
    } else {
      store4(shape, c, codes, first);
    }
  }

  private static IntVector load8(SimdShape shape, MemorySegment codes, long first) {
    VectorSpecies<Integer> ints = shape.ints();
    return switch (ints.length()) {
      case 16 ->
          (IntVector)
              ByteVector.fromMemorySegment(ByteVector.SPECIES_128, codes, first, ByteOrder.LITTLE_ENDIAN)
                  .convertShape(VectorOperators.ZERO_EXTEND_B2I, ints, 0);
      case 8 ->
          (IntVector)
              ByteVector.fromMemorySegment(ByteVector.SPECIES_64, codes, first, ByteOrder.LITTLE_ENDIAN)
                  .convertShape(VectorOperators.ZERO_EXTEND_B2I, ints, 0);
      default -> {
        // No 4-lane byte species exists: spread one 32-bit word over the lanes.
        IntVector shifts = IntVector.zero(ints).addIndex(8);
        yield IntVector.broadcast(ints, codes.get(INT_LE, first))
            .lanewise(VectorOperators.LSHR, shifts)
            .and(0xFF);
      }
    };
  }

  private static IntVector load4(SimdShape shape, MemorySegment codes, long first) {
    VectorSpecies<Integer> ints = shape.ints();
    long at = first >>> 1;
    IntVector iota = IntVector.zero(ints).addIndex(1);
    IntVector shifts = iota.lanewise(VectorOperators.LSHL, 2).and(31);
    IntVector words =
        switch (ints.length()) {
          case 16 -> {
            long w = codes.get(LONG_LE, at);
            yield IntVector.broadcast(ints, (int) w)
                .blend((int) (w >>> 32), iota.compare(VectorOperators.GE, 8));
          }
          case 8 -> IntVector.broadcast(ints, codes.get(INT_LE, at));
          default -> IntVector.broadcast(ints, codes.get(SHORT_LE, at) & 0xFFFF);
        };
    return words.lanewise(VectorOperators.LSHR, shifts).and(0xF);
  }

  private static void store8(SimdShape shape, IntVector c, MemorySegment codes, long first) {
    switch (c.length()) {
      case 16 ->
          c.convertShape(VectorOperators.I2B, ByteVector.SPECIES_128, 0)
              .reinterpretAsBytes()
              .intoMemorySegment(codes, first, ByteOrder.LITTLE_ENDIAN);
      case 8 ->
          c.convertShape(VectorOperators.I2B, ByteVector.SPECIES_64, 0)
              .reinterpretAsBytes()
              .intoMemorySegment(codes, first, ByteOrder.LITTLE_ENDIAN);
      default -> {
        IntVector shifts = IntVector.zero(shape.ints()).addIndex(8);
        codes.set(INT_LE, first, c.lanewise(VectorOperators.LSHL, shifts).reduceLanes(VectorOperators.OR));
      }
    }
  }

  private static void store4(SimdShape shape, IntVector c, MemorySegment codes, long first) {
    long at = first >>> 1;
    switch (c.length()) {
      case 16 -> {
        // Lane j of the long view holds codes 2j (bits 0..3) and 2j+1 (bits 32..35): fold the
        // second next to the first, then narrow each long to its low byte.
        LongVector pairs = c.reinterpretAsLongs();
        pairs
            .or(pairs.lanewise(VectorOperators.LSHR, 28))
            .and(0xFFL)
            .convertShape(VectorOperators.L2B, ByteVector.SPECIES_64, 0)
            .reinterpretAsBytes()
            .intoMemorySegment(codes, at, ByteOrder.LITTLE_ENDIAN);
      }
      case 8 -> {
        IntVector shifts = IntVector.zero(shape.ints()).addIndex(4);
        codes.set(INT_LE, at, c.lanewise(VectorOperators.LSHL, shifts).reduceLanes(VectorOperators.OR));
      }
      default -> {
        IntVector shifts = IntVector.zero(shape.ints()).addIndex(4);
        codes.set(
            SHORT_LE,
            at,
            (short) c.lanewise(VectorOperators.LSHL, shifts).reduceLanes(VectorOperators.OR));
      }
    }
  }
}
