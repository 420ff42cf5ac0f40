package dev.lowbit.quant;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

/**
 * Reading and writing packed codes in a {@link MemorySegment}, with {@code long} element indices.
 *
 * <p>Layout, everywhere in LowBit: 8-bit codes one per byte, element {@code i} at byte {@code i};
 * 4-bit codes two per byte, element {@code i} at byte {@code i >> 1}, in the <b>low</b> nibble
 * when {@code i} is even and the high nibble when {@code i} is odd. For an odd number of 4-bit
 * codes the high nibble of the last byte is padding; the quantizers write it as 0.
 */
public final class PackedCodes {
  private PackedCodes() {}

  /**
   * Bytes needed for {@code length} codes of {@code bits} bits: {@code length} for 8 bits,
   * {@code ceil(length / 2)} for 4 bits.
   *
   * @param bits 4 or 8
   * @param length the number of codes ({@code >= 0})
   * @return the byte count
   * @throws IllegalArgumentException for other bit widths or a negative length
   */
  public static long byteSize(int bits, long length) {
    if (length < 0) {
      throw new IllegalArgumentException("length must be >= 0, got " + length);
    }
    return switch (bits) {
      case 8 -> length;
      case 4 -> (length >>> 1) + (length & 1);
      default -> throw new IllegalArgumentException("bits must be 4 or 8, got " + bits);
    };
  }

  /**
   * The code of element {@code index}.
   *
   * @param codes the packed codes
   * @param bits 4 or 8
   * @param index the element index, in {@code [0, capacity)} where the capacity is the segment's
   *     byte size for 8 bits and twice it for 4 bits
   * @return the code, in {@code [0, 2^bits)}
   * @throws IllegalArgumentException if {@code bits} is not 4 or 8
   * @throws IndexOutOfBoundsException if {@code index} is outside the segment
   */
  public static int get(MemorySegment codes, int bits, long index) {
    checkIndex(codes, checkBits(bits), index);
    return read(codes, bits, index);
  }

  /**
   * Stores the code of element {@code index}; for 4 bits the other nibble of the byte is kept.
   *
   * @param codes the packed codes (writable)
   * @param bits 4 or 8
   * @param index the element index, in {@code [0, capacity)} where the capacity is the segment's
   *     byte size for 8 bits and twice it for 4 bits
   * @param code the code, in {@code [0, 2^bits)}
   * @throws IllegalArgumentException if {@code bits} is not 4 or 8, {@code code} is outside
   *     {@code [0, 2^bits)} or {@code codes} is read-only; nothing is written then
   * @throws IndexOutOfBoundsException if {@code index} is outside the segment
   */
  public static void set(MemorySegment codes, int bits, long index, int code) {
    checkIndex(codes, checkBits(bits), index);
    if (code < 0 || code >= 1 << bits) {
      throw new IllegalArgumentException(
          "code must be in [0, " + (1 << bits) + ") for " + bits + " bits, got " + code);
    }
    Checks.writable("codes", codes);
    write(codes, bits, index, code);
  }

  /** {@link #get} without checks, for the quantizers' loops (their calls are checked once). */
  static int read(MemorySegment codes, int bits, long index) {
    if (bits == 8) {
      return codes.get(ValueLayout.JAVA_BYTE, index) & 0xFF;
    }
    int b = codes.get(ValueLayout.JAVA_BYTE, index >>> 1);
    return (index & 1) == 0 ? b & 0x0F : (b >>> 4) & 0x0F;
  }

  /**
   * {@link #set} without checks, for the quantizers' loops: {@code bits} is the book's and
   * {@code code} an index of the book, so both are in range.
   */
  static void write(MemorySegment codes, int bits, long index, int code) {
    if (bits == 8) {
      codes.set(ValueLayout.JAVA_BYTE, index, (byte) code);
      return;
    }
    long at = index >>> 1;
    int b = codes.get(ValueLayout.JAVA_BYTE, at);
    int packed = (index & 1) == 0 ? (b & 0xF0) | code : (b & 0x0F) | (code << 4);
    codes.set(ValueLayout.JAVA_BYTE, at, (byte) packed);
  }

  private static int checkBits(int bits) {
    if (bits != 4 && bits != 8) {
      throw new IllegalArgumentException("bits must be 4 or 8, got " + bits);
    }
    return bits;
  }

  private static void checkIndex(MemorySegment codes, int bits, long index) {
    Objects.requireNonNull(codes, "codes");
    if (index < 0 || (bits == 8 ? index : index >>> 1) >= codes.byteSize()) {
      throw new IndexOutOfBoundsException(
          "index " + index + " is outside the " + bits + "-bit codes of a " + codes.byteSize()
              + "-byte segment");
    }
  }

  /**
   * Clears the padding nibble after the last of {@code length} 4-bit codes (nothing to do for
   * 8 bits or an even length), so equal codes always mean equal bytes.
   *
   * @param codes the packed codes
   * @param bits 4 or 8
   * @param length the number of codes
   * @throws IllegalArgumentException if {@code bits} is not 4 or 8, {@code length} is negative or
   *     there is padding to clear in a read-only segment
   */
  public static void clearPadding(MemorySegment codes, int bits, long length) {
    byteSize(bits, length);
    if (bits == 4 && (length & 1) == 1) {
      Checks.writable("codes", codes);
      long at = length >>> 1;
      codes.set(ValueLayout.JAVA_BYTE, at, (byte) (codes.get(ValueLayout.JAVA_BYTE, at) & 0x0F));
    }
  }
}
