package dev.lowbit.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.quant.CodeBook;
import java.lang.foreign.MemorySegment;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The moment records refuse the parameters their javadoc rules out, naming them. */
class MomentStateTest {
  private static final MemorySegment BYTES = MemorySegment.ofArray(new byte[64]);
  private static final MemorySegment FLOATS = MemorySegment.ofArray(new float[64]);

  @ParameterizedTest
  @ValueSource(ints = {-64, 0, 1, 16, 31, 48, 96, 100, 8192, 1 << 30})
  void aBlockSizeThatIsNotAPowerOfTwoFrom32To4096IsRefused(int blockSize) {
    assertMessage("blockSize", () ->
        new BlockwiseMoment(CodeBook.LINEAR_4, blockSize, BYTES, FLOATS));
  }

  @ParameterizedTest
  @ValueSource(ints = {32, 64, 128, 256, 512, 1024, 2048, 4096})
  void everyDocumentedBlockSizeIsAccepted(int blockSize) {
    new BlockwiseMoment(CodeBook.LINEAR_4, blockSize, BYTES, FLOATS);
  }

  @Test
  void negativeOrOverflowingDimensionsAreRefused() {
    assertMessage("rows", () -> new Rank1Moment(CodeBook.LINEAR_4, -1, 4, BYTES, FLOATS, FLOATS));
    assertMessage("cols", () -> new Rank1Moment(CodeBook.LINEAR_4, 4, -1, BYTES, FLOATS, FLOATS));
    assertMessage("rows * cols", () ->
        new Rank1Moment(CodeBook.LINEAR_4, 1L << 32, 1L << 32, BYTES, FLOATS, FLOATS));
    new Rank1Moment(CodeBook.LINEAR_4, 0, 5, BYTES, FLOATS, FLOATS);
    new Rank1Moment(CodeBook.LINEAR_4, Long.MAX_VALUE, 0, BYTES, FLOATS, FLOATS);
    assertMessage("batch", () -> new FactorizedMoment(-1, 2, 2, FLOATS, FLOATS));
    assertMessage("rows", () -> new FactorizedMoment(1, -2, 2, FLOATS, FLOATS));
    assertMessage("cols", () -> new FactorizedMoment(1, 2, -2, FLOATS, FLOATS));
    assertMessage("batch * rows * cols", () ->
        new FactorizedMoment(1L << 20, 1L << 20, 1L << 30, FLOATS, FLOATS));
    new FactorizedMoment(0, 3, 3, FLOATS, FLOATS);
    // A rank-1 moment's leading dimensions must multiply to its rows.
    new Rank1Moment(CodeBook.LINEAR_4, 12, 5, BYTES, FLOATS, FLOATS, new long[] {3, 4});
    assertMessage("do not multiply to rows 12", () ->
        new Rank1Moment(CodeBook.LINEAR_4, 12, 5, BYTES, FLOATS, FLOATS, new long[] {3, 5}));
    assertMessage("rowDims[1] must be >= 0", () ->
        new Rank1Moment(CodeBook.LINEAR_4, 12, 5, BYTES, FLOATS, FLOATS, new long[] {3, -4}));
    assertMessage("rowDims[0] * rowDims[1] overflows", () -> new Rank1Moment(
        CodeBook.LINEAR_4, 12, 5, BYTES, FLOATS, FLOATS, new long[] {1L << 32, 1L << 32}));
  }

  /** The overflow message lists the dimensions as the product they form, without a stray " * ". */
  @Test
  void anOverflowingProductIsSpelledOutInTheMessage() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new Rank1Moment(CodeBook.LINEAR_4, 1L << 32, 1L << 32, BYTES, FLOATS, FLOATS));
    org.junit.jupiter.api.Assertions.assertEquals(
        "rows * cols overflows a long: 4294967296 * 4294967296", e.getMessage());
  }

  /**
   * Two rank-1 moments are equal when their book, dimensions and rowDims values are, and their
   * segments are views of the same memory (fresh views of the same arrays here, rowDims in
   * separate arrays): equal hash codes, one entry of a set. Other rowDims, no rowDims, or codes
   * copied to other memory make another moment. toString prints rowDims' values.
   */
  @Test
  void rankOneMomentsCompareRowDimsByValueAndSegmentsByMemory() {
    byte[] codes = new byte[30];
    float[] scales = new float[12 + 5];
    Rank1Moment v = rank1(MemorySegment.ofArray(codes), scales, new long[] {3, 4});
    Rank1Moment same = rank1(MemorySegment.ofArray(codes), scales, new long[] {3, 4});
    assertEquals(v, same);
    assertEquals(v.hashCode(), same.hashCode());
    assertEquals(1, new HashSet<>(List.of(v, same)).size());
    assertNotEquals(v, rank1(MemorySegment.ofArray(codes), scales, new long[] {4, 3}));
    assertNotEquals(v, rank1(MemorySegment.ofArray(codes), scales, null));
    assertNotEquals(v, rank1(MemorySegment.ofArray(codes.clone()), scales, new long[] {3, 4}));
    assertTrue(v.toString().startsWith("Rank1Moment[book=linear-4 (4-bit, 16 values), rows=12,"
        + " cols=5, codes="), v.toString());
    assertTrue(v.toString().endsWith(", rowDims=[3, 4]]"), v.toString());
    assertTrue(rank1(MemorySegment.ofArray(codes), scales, null).toString().endsWith(
        ", rowDims=null]"));
  }

  /** A 12 x 5 rank-1 moment: row scales are the first 12 floats, column scales the other 5. */
  private static Rank1Moment rank1(MemorySegment codes, float[] scales, long[] rowDims) {
    MemorySegment all = MemorySegment.ofArray(scales);
    return new Rank1Moment(
        CodeBook.LINEAR_4, 12, 5, codes, all.asSlice(0, 48), all.asSlice(48), rowDims);
  }

  @Test
  void nullComponentsAreNamed() {
    assertNull("book", () -> new BlockwiseMoment(null, 32, BYTES, FLOATS));
    assertNull("codes", () -> new BlockwiseMoment(CodeBook.LINEAR_4, 32, null, FLOATS));
    assertNull("scales", () -> new BlockwiseMoment(CodeBook.LINEAR_4, 32, BYTES, null));
    assertNull("colScales", () -> new Rank1Moment(CodeBook.LINEAR_4, 2, 2, BYTES, FLOATS, null));
    assertNull("rowStats", () -> new FactorizedMoment(1, 2, 2, null, FLOATS));
    assertNull("values", () -> new Fp32Moment(null));
  }

  private static void assertMessage(String fragment, Executable call) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
    assertTrue(e.getMessage().contains(fragment), "'" + fragment + "' not in: " + e.getMessage());
  }

  private static void assertNull(String name, Executable call) {
    NullPointerException e = assertThrows(NullPointerException.class, call);
    assertTrue(name.equals(e.getMessage()), "'" + name + "' is not: " + e.getMessage());
  }
}
