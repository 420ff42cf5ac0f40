package dev.lowbit.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Bad input fails with a message naming what is wrong, and writes nothing. */
class BadInputTest {

  static Stream<Arguments> nonFiniteCases() {
    List<Normalization> norms = QuantCase.NORMALIZATIONS;
    List<Float> bad = List.of(Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY);
    return norms.stream()
        .flatMap(
            n -> bad.stream().flatMap(b -> Stream.of(0, 77, 299).map(i -> Arguments.of(n, b, i))));
  }

  @ParameterizedTest(name = "{0}: {1} at {2}")
  @MethodSource("nonFiniteCases")
  void nonFiniteInputNamesTheFirstBadIndexAndWritesNothing(
      Normalization norm, float bad, int index) {
    long[] shape = {20, 15};
    float[] x = StochasticRoundingTest.gaussian(300, index);
    QuantizedTensor q = QuantizedTensor.allocate(CodeBook.DE_SIGNED_4, norm, shape);
    q.quantize(x);
    byte[] codesBefore = q.codes().toArray(ValueLayout.JAVA_BYTE);
    byte[] scalesBefore = q.scales().toArray(ValueLayout.JAVA_BYTE);
    float[] y = StochasticRoundingTest.gaussian(300, index + 1);
    y[index] = bad;
    y[299 - (299 - index) / 2] = Float.NaN; // a later bad value must not be the one reported
    if (index == 299) {
      y[299] = bad;
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> q.quantize(y));
    assertTrue(e.getMessage().contains("at index " + index), e.getMessage());
    assertTrue(e.getMessage().contains("src"), e.getMessage());
    assertArrayEquals(codesBefore, q.codes().toArray(ValueLayout.JAVA_BYTE));
    assertArrayEquals(scalesBefore, q.scales().toArray(ValueLayout.JAVA_BYTE));
  }

  @Test
  void wrongSourceOrDestinationLengthIsRefused() {
    QuantizedTensor q = QuantizedTensor.allocate(CodeBook.LINEAR_4, Normalization.rank1(), 4, 8);
    byte[] before = q.codes().toArray(ValueLayout.JAVA_BYTE);
    IllegalArgumentException tooShort =
        assertThrows(IllegalArgumentException.class, () -> q.quantize(new float[31]));
    assertTrue(tooShort.getMessage().contains("src") && tooShort.getMessage().contains("128"),
        tooShort.getMessage());
    assertThrows(IllegalArgumentException.class, () -> q.quantize(new float[33]));
    IllegalArgumentException dst =
        assertThrows(IllegalArgumentException.class,
            () -> q.dequantize(MemorySegment.ofArray(new float[31])));
    assertTrue(dst.getMessage().contains("dst"), dst.getMessage());
    assertArrayEquals(before, q.codes().toArray(ValueLayout.JAVA_BYTE));
  }

  @ParameterizedTest
  @ValueSource(ints = {-64, 0, 16, 31, 48, 100, 8192, 1 << 30})
  void blockSizeMustBeAPowerOfTwoFrom32To4096(int blockSize) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Normalization.blockWise(blockSize));
    assertTrue(e.getMessage().contains("blockSize") && e.getMessage().contains("" + blockSize),
        e.getMessage());
    MemorySegment any = MemorySegment.ofArray(new float[64]);
    assertThrows(IllegalArgumentException.class,
        () -> BlockwiseQuantizer.quantize(
            CodeBook.LINEAR_4, blockSize, any, 64, any, any, Rounding.NEAREST));
  }

  @Test
  void staticQuantizerChecksEverySegment() {
    int n = 100;
    MemorySegment src = MemorySegment.ofArray(new float[n]);
    MemorySegment codes4 = MemorySegment.ofArray(new byte[50]);
    MemorySegment scales = MemorySegment.ofArray(new float[4]);
    BlockwiseQuantizer.quantize(CodeBook.LINEAR_4, 32, src, n, codes4, scales, Rounding.NEAREST);
    assertMessage("codes", () -> BlockwiseQuantizer.quantize(
        CodeBook.LINEAR_4, 32, src, n, MemorySegment.ofArray(new byte[49]), scales,
        Rounding.NEAREST));
    assertMessage("scales", () -> BlockwiseQuantizer.quantize(
        CodeBook.LINEAR_4, 32, src, n, codes4, MemorySegment.ofArray(new float[3]),
        Rounding.NEAREST));
    assertMessage("src", () -> BlockwiseQuantizer.quantize(
        CodeBook.LINEAR_4, 32, MemorySegment.ofArray(new float[n - 1]), n, codes4, scales,
        Rounding.NEAREST));
    assertMessage("length", () -> BlockwiseQuantizer.quantize(
        CodeBook.LINEAR_4, 32, src, -1, codes4, scales, Rounding.NEAREST));
    assertMessage("blocks", () -> BlockwiseQuantizer.quantizeBlocks(
        CodeBook.LINEAR_4, 32, src, n, codes4, scales, 2, 3, Rounding.NEAREST));
    assertMessage("codes", () -> BlockwiseQuantizer.quantizePerTensor(
        CodeBook.DYNAMIC_SIGNED_8, src, n, codes4, scales, Rounding.NEAREST));
  }

  /** The rank-1 and per-tensor quantizers check their outputs' sizes too, before writing any. */
  @Test
  void rankOneAndPerTensorQuantizersCheckEveryOutputSize() {
    long[] shape = {4, 8};
    MemorySegment src = MemorySegment.ofArray(StochasticRoundingTest.gaussian(32, 9));
    MemorySegment codes = MemorySegment.ofArray(new byte[15]); // needs 16
    MemorySegment scales = MemorySegment.ofArray(new float[12]); // needs 4 + 8
    assertMessage("codes is too small", () -> Rank1Quantizer.quantize(
        CodeBook.LINEAR_4, shape, src, codes, scales, Rounding.NEAREST));
    assertArrayEquals(new float[12], scales.toArray(ValueLayout.JAVA_FLOAT));
    MemorySegment goodCodes = MemorySegment.ofArray(new byte[16]);
    assertMessage("scales is too small", () -> Rank1Quantizer.quantize(
        CodeBook.LINEAR_4, shape, src, goodCodes, MemorySegment.ofArray(new float[11]),
        Rounding.NEAREST));
    assertArrayEquals(new byte[16], goodCodes.toArray(ValueLayout.JAVA_BYTE));
    MemorySegment dst = MemorySegment.ofArray(new float[32]);
    assertMessage("scales is too small", () -> Rank1Quantizer.dequantize(
        CodeBook.LINEAR_4, shape, goodCodes, MemorySegment.ofArray(new float[11]), dst));
    assertMessage("codes is too small", () -> Rank1Quantizer.dequantize(
        CodeBook.LINEAR_4, shape, codes, scales, dst));
    assertArrayEquals(new float[32], dst.toArray(ValueLayout.JAVA_FLOAT));
    // Per-tensor: the single scale needs 4 bytes.
    MemorySegment noScale = MemorySegment.ofArray(new byte[3]);
    assertMessage("scale is too small", () -> BlockwiseQuantizer.quantizePerTensor(
        CodeBook.LINEAR_4, src, 32, goodCodes, noScale, Rounding.NEAREST));
    assertArrayEquals(new byte[16], goodCodes.toArray(ValueLayout.JAVA_BYTE));
    assertMessage("scale is too small", () -> BlockwiseQuantizer.dequantizePerTensor(
        CodeBook.LINEAR_4, goodCodes, noScale, 32, dst));
  }

  /** dequantize(dst) wants exactly length() floats, as documented: a larger dst is a caller bug. */
  @Test
  void aDestinationLargerThanTheTensorIsRefused() {
    for (Normalization n : QuantCase.NORMALIZATIONS) {
      QuantizedTensor q = QuantizedTensor.allocate(CodeBook.LINEAR_4, n, 4, 8);
      q.quantize(StochasticRoundingTest.gaussian(32, 2));
      float[] dst = new float[33];
      java.util.Arrays.fill(dst, -7f);
      assertMessage("dst has the wrong size", () -> q.dequantize(MemorySegment.ofArray(dst)));
      assertTrue(dst[0] == -7f && dst[31] == -7f, "dst was written");
      assertMessage("src has the wrong size", () -> q.quantize(new float[33]));
    }
  }

  @Test
  void shapesAreChecked() {
    assertMessage("dimension 1 is negative",
        () -> QuantizedTensor.allocate(CodeBook.LINEAR_4, Normalization.rank1(), 3, -1));
    assertMessage("overflows",
        () -> QuantizedTensor.byteSize(
            CodeBook.LINEAR_4, Normalization.perTensor(), 1L << 40, 1L << 40));
    assertMessage("rank >= 2", () -> Rank1Quantizer.quantize(CodeBook.LINEAR_4, new long[] {64},
        MemorySegment.ofArray(new float[64]), MemorySegment.ofArray(new byte[32]),
        MemorySegment.ofArray(new float[64]), Rounding.NEAREST));
    assertMessage("too large for the heap",
        () -> QuantizedTensor.allocate(
            CodeBook.DYNAMIC_SIGNED_8, Normalization.blockWise(256), 1L << 32));
  }

  @Test
  void countsNearLongMaxValueAreExactOrRefusedByName() {
    long max = Long.MAX_VALUE;
    Normalization.BlockWise b32 = Normalization.blockWise(32);
    assertEquals(max / 32 + 1, b32.blockCount(max));
    assertEquals(max / 32 + 1, b32.scaleCount(new long[] {max}));
    assertEquals(max / 4096 + 1, Normalization.blockWise(4096).blockCount(max));
    assertEquals(max / 32, b32.blockCount(max - 31)); // 2^63 - 32: whole blocks only
    assertEquals(0, b32.blockCount(0));
    assertEquals(1, b32.blockCount(1));
    assertEquals(1, b32.blockCount(32));
    assertEquals(2, b32.blockCount(33));
    assertMessage("length must be >= 0, got -5", () -> b32.blockCount(-5));
    assertMessage("sum of the dimensions",
        () -> Normalization.rank1().scaleCount(new long[] {1, max}));
    assertEquals(max / 128 + 1, Normalization.rank1().scaleCount(new long[] {max}));
    // Exactly at the limits: a sum of dimensions, a state size and a scale byte count of 2^63 - 1
    // (or just under it) still count; one more overflows.
    assertEquals(max, Normalization.rank1().scaleCount(new long[] {max, 0}));
    assertEquals(max, Normalization.rank1().scaleCount(new long[] {max - 5, 0, 5}));
    assertMessage("sum of the dimensions",
        () -> Normalization.rank1().scaleCount(new long[] {max, 0, 1}));
    assertEquals(max, QuantizedTensor.byteSize(
        CodeBook.DYNAMIC_SIGNED_8, Normalization.perTensor(), max - 4));
    assertMessage("state size", () -> QuantizedTensor.byteSize(
        CodeBook.DYNAMIC_SIGNED_8, Normalization.perTensor(), max - 3));
    assertEquals(max - 3, QuantizedTensor.byteSize(
        CodeBook.LINEAR_4, Normalization.rank1(), max / 4, 0));
    assertMessage("scales", () -> QuantizedTensor.byteSize(
        CodeBook.LINEAR_4, Normalization.rank1(), max / 4 + 1, 0));
    // Codes of 2^63 - 1 bytes plus 2^60 bytes of scales: more than a long counts.
    assertMessage("state size",
        () -> QuantizedTensor.byteSize(CodeBook.DYNAMIC_SIGNED_8, b32, max));
    assertMessage("scales", () -> QuantizedTensor.byteSize(
        CodeBook.LINEAR_4, Normalization.rank1(), 1, max / 2));
    assertEquals(max / 2 + 1 + (max / 32 + 1) * 4,
        QuantizedTensor.byteSize(CodeBook.LINEAR_4, b32, max));
    assertMessage("scales", () -> QuantizedTensor.allocate(
        CodeBook.LINEAR_4, Normalization.rank1(), java.lang.foreign.Arena.global(), 1, max / 2));
    // max / 4 floats are 2^63 - 4 bytes: a count a long holds, so the message gives it in bytes.
    MemorySegment floats = MemorySegment.ofArray(new float[64]);
    assertMessage("src is too small: needs 9223372036854775804 bytes, has 256",
        () -> BlockwiseQuantizer.quantizePerTensor(CodeBook.DYNAMIC_SIGNED_8, floats, max / 4,
            MemorySegment.ofArray(new byte[64]), floats, Rounding.NEAREST));
  }

  @Test
  void aLengthTooLargeForAnySegmentNamesTheSegment() {
    long huge = 1L << 62; // 2^64 bytes of floats: more than a long counts
    MemorySegment floats = MemorySegment.ofArray(new float[64]);
    MemorySegment bytes = MemorySegment.ofArray(new byte[64]);
    assertMessage("src is too small", () -> BlockwiseQuantizer.quantize(
        CodeBook.DYNAMIC_SIGNED_8, 32, floats, huge, bytes, floats, Rounding.NEAREST));
    assertMessage("src is too small", () -> BlockwiseQuantizer.quantizeBlocks(
        CodeBook.DYNAMIC_SIGNED_8, 32, floats, huge, bytes, floats, 0, 1, Rounding.NEAREST));
    assertMessage("dst is too small", () -> BlockwiseQuantizer.dequantize(
        CodeBook.DYNAMIC_SIGNED_8, 32, bytes, floats, huge, floats));
    assertMessage("src is too small", () -> BlockwiseQuantizer.quantizePerTensor(
        CodeBook.LINEAR_4, floats, Long.MAX_VALUE, bytes, floats, Rounding.NEAREST));
    assertMessage("dst is too small", () -> BlockwiseQuantizer.dequantizePerTensor(
        CodeBook.LINEAR_4, bytes, floats, huge, floats));
    assertMessage("src is too small", () -> Rank1Quantizer.quantize(
        CodeBook.LINEAR_4, new long[] {2, 1L << 61}, floats, bytes, floats, Rounding.NEAREST));
    assertMessage("dst is too small", () -> Rank1Quantizer.dequantize(
        CodeBook.LINEAR_4, new long[] {1L << 61, 2}, bytes, floats, floats));
    assertArrayEquals(new float[64], floats.toArray(ValueLayout.JAVA_FLOAT));
    assertArrayEquals(new byte[64], bytes.toArray(ValueLayout.JAVA_BYTE));
  }

  @Test
  void aNullShapeOrTableIsNamed() {
    MemorySegment codes = MemorySegment.ofArray(new byte[4]);
    MemorySegment scales = MemorySegment.ofArray(new float[1]);
    Normalization b32 = Normalization.blockWise(32);
    assertNull("shape", () -> QuantizedTensor.wrap(CodeBook.LINEAR_4, b32, null, codes, scales));
    assertNull("shape", () -> QuantizedTensor.allocate(CodeBook.LINEAR_4, b32, (long[]) null));
    assertNull("shape", () -> QuantizedTensor.allocate(
        CodeBook.LINEAR_4, b32, java.lang.foreign.Arena.global(), (long[]) null));
    assertNull("shape", () -> QuantizedTensor.byteSize(CodeBook.LINEAR_4, b32, (long[]) null));
    assertNull("shape", () -> Normalization.rank1().scaleCount(null));
    assertNull("shape", () -> b32.scaleCount(null));
    assertNull("values", () -> CodeBook.of("x", 8, null));
  }

  private static void assertNull(String name, org.junit.jupiter.api.function.Executable call) {
    NullPointerException e = assertThrows(NullPointerException.class, call);
    assertEquals(name, e.getMessage());
  }

  @Test
  void wrapChecksSegmentSizes() {
    long[] shape = {10, 7};
    MemorySegment codes = MemorySegment.ofArray(new byte[35]);
    MemorySegment scales = MemorySegment.ofArray(new float[17]);
    QuantizedTensor.wrap(CodeBook.LINEAR_4, Normalization.rank1(), shape, codes, scales);
    assertMessage("codes", () -> QuantizedTensor.wrap(CodeBook.DYNAMIC_UNSIGNED_8,
        Normalization.rank1(), shape, codes, scales));
    assertMessage("scales", () -> QuantizedTensor.wrap(CodeBook.LINEAR_4,
        Normalization.blockWise(32), shape, codes, scales));
  }

  @Test
  void aCodeOutsideTheBookIsRefusedBeforeAnythingIsDecoded() {
    // DE-0 has 15 entries, so the 4-bit code 15 cannot come from quantize: a damaged state.
    for (Normalization n : QuantCase.NORMALIZATIONS) {
      QuantizedTensor q = QuantizedTensor.allocate(CodeBook.DE0_UNSIGNED_4, n, 6, 7);
      q.quantize(StochasticRoundingTest.gaussian(42, 1));
      PackedCodes.set(q.codes(), 4, 29, 15);
      float[] dst = new float[42];
      java.util.Arrays.fill(dst, -7f);
      assertMessage("code 15 at index 29", () -> q.dequantize(MemorySegment.ofArray(dst)));
      for (float d : dst) {
        assertTrue(d == -7f, "dst was written");
      }
    }
  }

  @Test
  void aReadOnlyOutputIsRefusedByNameBeforeAnythingIsWritten() {
    float[] x = StochasticRoundingTest.gaussian(300, 3);
    MemorySegment src = MemorySegment.ofArray(x);
    for (Normalization n : QuantCase.NORMALIZATIONS) {
      QuantizedTensor original = QuantizedTensor.allocate(CodeBook.DE1_SIGNED_4, n, 20, 15);
      original.quantize(StochasticRoundingTest.gaussian(300, 4));
      byte[] codes = original.codes().toArray(ValueLayout.JAVA_BYTE);
      byte[] scales = original.scales().toArray(ValueLayout.JAVA_BYTE);
      // Read-only codes: scales must stay as they were (they were written first before).
      MemorySegment writableScales = MemorySegment.ofArray(scales.clone());
      QuantizedTensor roCodes = QuantizedTensor.wrap(CodeBook.DE1_SIGNED_4, n, new long[] {20, 15},
          MemorySegment.ofArray(codes.clone()).asReadOnly(), writableScales);
      assertMessage("codes is read-only", () -> roCodes.quantize(src));
      assertArrayEquals(scales, writableScales.toArray(ValueLayout.JAVA_BYTE), n.label());
      // Read-only scales: codes must stay as they were.
      MemorySegment writableCodes = MemorySegment.ofArray(codes.clone());
      QuantizedTensor roScales = QuantizedTensor.wrap(CodeBook.DE1_SIGNED_4, n, new long[] {20, 15},
          writableCodes, MemorySegment.ofArray(scales.clone()).asReadOnly());
      assertMessage(
          n instanceof Normalization.PerTensor ? "scale is read-only" : "scales is read-only",
          () -> roScales.quantize(src));
      assertArrayEquals(codes, writableCodes.toArray(ValueLayout.JAVA_BYTE), n.label());
      // A read-only tensor still decodes; a read-only destination is named.
      assertArrayEquals(original.dequantize(), roCodes.dequantize(), 0f);
      assertMessage("dst is read-only",
          () -> original.dequantize(MemorySegment.ofArray(new float[300]).asReadOnly()));
    }
    MemorySegment codes = MemorySegment.ofArray(new byte[150]);
    MemorySegment scales = MemorySegment.ofArray(new float[35]);
    assertMessage("codes is read-only", () -> BlockwiseQuantizer.quantizeBlocks(CodeBook.LINEAR_4,
        32, src, 300, codes.asReadOnly(), scales, 0, 10, Rounding.NEAREST));
    assertMessage("scales is read-only", () -> Rank1Quantizer.quantize(CodeBook.LINEAR_4,
        new long[] {20, 15}, src, codes, scales.asReadOnly(), Rounding.NEAREST));
    assertArrayEquals(new byte[150], codes.toArray(ValueLayout.JAVA_BYTE));
    assertArrayEquals(new float[35], scales.toArray(ValueLayout.JAVA_FLOAT));
  }

  private static void assertMessage(
      String fragment, org.junit.jupiter.api.function.Executable call) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
    assertTrue(e.getMessage().contains(fragment), "'" + fragment + "' not in: " + e.getMessage());
  }
}
