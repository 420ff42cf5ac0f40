package dev.lowbit.kernels;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Reads and writes packed codes and float32 values (see {@link MomentState} for the layouts).
 * Shared by every implementation so that tails and scalar paths touch memory the same way.
 */
final class Codes {

  /** Floats may sit in byte-backed heap segments, so no alignment is assumed. */
  static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

  private Codes() {}

  /**
   * The code of element {@code i}.
   *
   * @param codes the packed codes
   * @param bits 4 or 8
   * @param i the element index
   * @return the code, in {@code [0, 2^bits)}
   */
  static int read(MemorySegment codes, int bits, long i) {
    if (bits == 8) {
      return Byte.toUnsignedInt(codes.get(ValueLayout.JAVA_BYTE, i));
    }
    int packed = codes.get(ValueLayout.JAVA_BYTE, i >> 1);
    return ((i & 1) == 0 ? packed : packed >> 4) & 0xF;
  }

  /**
   * Stores the code of element {@code i}; for 4 bits the other nibble of the byte is kept.
   *
   * @param codes the packed codes
   * @param bits 4 or 8
   * @param i the element index
   * @param code the code, in {@code [0, 2^bits)}
   */
  static void write(MemorySegment codes, int bits, long i, int code) {
    if (bits == 8) {
      codes.set(ValueLayout.JAVA_BYTE, i, (byte) code);
      return;
    }
    long at = i >> 1;
    int packed = codes.get(ValueLayout.JAVA_BYTE, at);
    packed = (i & 1) == 0 ? (packed & 0xF0) | code : (packed & 0x0F) | (code << 4);
    codes.set(ValueLayout.JAVA_BYTE, at, (byte) packed);
  }

  /**
   * Writes 0 into the padding nibble after the last of an odd number of 4-bit codes, as
   * quant-blockwise's quantizers do, so equal codes always mean equal bytes.
   *
   * @param state a moment (only block-wise and rank-1 ones have codes)
   * @param length number of elements
   */
  static void clearPadding(MomentState state, long length) {
    MemorySegment codes;
    int bits;
    switch (state) {
      case BlockwiseMoment b -> {
        codes = b.codes();
        bits = b.book().bits();
      }
      case Rank1Moment r -> {
        codes = r.codes();
        bits = r.book().bits();
      }
      default -> {
        return;
      }
    }
    if (bits == 4 && (length & 1) == 1) {
      long at = length >> 1;
      codes.set(ValueLayout.JAVA_BYTE, at, (byte) (codes.get(ValueLayout.JAVA_BYTE, at) & 0x0F));
    }
  }

  static float getFloat(MemorySegment segment, long i) {
    return segment.getAtIndex(FLOAT, i);
  }

  static void setFloat(MemorySegment segment, long i, float value) {
    segment.setAtIndex(FLOAT, i, value);
  }
}
