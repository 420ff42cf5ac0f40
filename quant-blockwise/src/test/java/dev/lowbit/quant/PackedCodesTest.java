package dev.lowbit.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** PackedCodes' public accessors refuse what would corrupt a neighbour or read the wrong width. */
class PackedCodesTest {

  @Test
  void aCodeOutsideItsWidthIsRefusedAndWritesNothing() {
    byte[] bytes = {(byte) 0xA5, 0x3C};
    MemorySegment codes = MemorySegment.ofArray(bytes);
    assertRefused(
        "code must be in [0, 16) for 4 bits, got 16", () -> PackedCodes.set(codes, 4, 0, 16));
    assertRefused("got -1", () -> PackedCodes.set(codes, 4, 1, -1));
    assertRefused(
        "code must be in [0, 256) for 8 bits, got 300", () -> PackedCodes.set(codes, 8, 0, 300));
    assertRefused("got -1", () -> PackedCodes.set(codes, 8, 1, -1));
    assertArrayEquals(new byte[] {(byte) 0xA5, 0x3C}, bytes);
    PackedCodes.set(codes, 4, 0, 15);
    PackedCodes.set(codes, 8, 1, 255);
    assertArrayEquals(new byte[] {(byte) 0xAF, (byte) 0xFF}, bytes);
  }

  /** Code 0 (a book's first entry) is a valid code: it clears its nibble or byte, nothing else. */
  @Test
  void codeZeroIsStoredAndKeepsTheOtherNibble() {
    byte[] bytes = {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF};
    MemorySegment codes = MemorySegment.ofArray(bytes);
    PackedCodes.set(codes, 4, 0, 0); // low nibble of byte 0
    PackedCodes.set(codes, 4, 3, 0); // high nibble of byte 1
    PackedCodes.set(codes, 8, 2, 0);
    assertArrayEquals(new byte[] {(byte) 0xF0, 0x0F, 0}, bytes);
    assertEquals(0, PackedCodes.get(codes, 4, 0));
    assertEquals(15, PackedCodes.get(codes, 4, 1));
    assertEquals(15, PackedCodes.get(codes, 4, 2));
    assertEquals(0, PackedCodes.get(codes, 4, 3));
  }

  @Test
  void aBitWidthOtherThan4Or8IsRefused() {
    MemorySegment codes = MemorySegment.ofArray(new byte[] {(byte) 0xA5, 0x3C});
    for (int bits : new int[] {0, 1, 2, 5, 7, 16, 32, -4}) {
      assertRefused("bits must be 4 or 8, got " + bits, () -> PackedCodes.get(codes, bits, 0));
      assertRefused("bits must be 4 or 8, got " + bits, () -> PackedCodes.set(codes, bits, 0, 1));
      assertRefused(
          "bits must be 4 or 8, got " + bits, () -> PackedCodes.clearPadding(codes, bits, 3));
    }
    assertArrayEquals(new byte[] {(byte) 0xA5, 0x3C}, codes.toArray(ValueLayout.JAVA_BYTE));
    assertEquals(5, PackedCodes.get(codes, 4, 0));
    assertEquals(0xA, PackedCodes.get(codes, 4, 1));
    assertEquals(0x3C, PackedCodes.get(codes, 8, 1));
  }

  @Test
  void anIndexOutsideTheSegmentIsNamed() {
    MemorySegment codes = MemorySegment.ofArray(new byte[2]);
    for (long index : new long[] {-1, 4, Long.MIN_VALUE}) {
      IndexOutOfBoundsException e =
          assertThrows(IndexOutOfBoundsException.class, () -> PackedCodes.get(codes, 4, index));
      assertTrue(e.getMessage().contains("index " + index), e.getMessage());
      IndexOutOfBoundsException set =
          assertThrows(IndexOutOfBoundsException.class, () -> PackedCodes.set(codes, 4, index, 1));
      assertTrue(set.getMessage().contains("index " + index + " is outside the 4-bit codes"),
          set.getMessage());
    }
    // Two bytes hold four 4-bit codes but only two 8-bit ones: index 2 and 3 are outside for
    // 8 bits.
    for (long index : new long[] {2, 3}) {
      IndexOutOfBoundsException e =
          assertThrows(IndexOutOfBoundsException.class, () -> PackedCodes.get(codes, 8, index));
      assertTrue(
          e.getMessage().contains("index " + index + " is outside the 8-bit codes of a 2-byte"),
          e.getMessage());
    }
    assertEquals(0, PackedCodes.get(codes, 4, 3));
  }

  @Test
  void aReadOnlySegmentIsNamed() {
    MemorySegment codes = MemorySegment.ofArray(new byte[2]).asReadOnly();
    assertRefused("codes is read-only", () -> PackedCodes.set(codes, 4, 0, 1));
    // clearPadding writes only for an odd number of 4-bit codes: then it names the segment too.
    assertRefused("codes is read-only", () -> PackedCodes.clearPadding(codes, 4, 3));
    PackedCodes.clearPadding(codes, 4, 4);
    PackedCodes.clearPadding(codes, 8, 1);
  }

  private static void assertRefused(String fragment, Executable call) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
    assertTrue(e.getMessage().contains(fragment), "'" + fragment + "' not in: " + e.getMessage());
  }
}
