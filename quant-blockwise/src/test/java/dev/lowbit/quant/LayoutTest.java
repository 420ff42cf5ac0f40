package dev.lowbit.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Byte layouts, the scale rules on hand-checked examples, and edge shapes. */
class LayoutTest {

  @Test
  void fourBitCodesPackLowNibbleFirst() {
    // linear-4 entry k is (k + 1) / 16, so x = (k + 1) / 16 with scale 1 gives code k.
    float[] x = {1f, 2 / 16f, 3 / 16f, 4 / 16f, 16 / 16f};
    QuantizedTensor q = QuantizedTensor.allocate(CodeBook.LINEAR_4, Normalization.blockWise(32), 5);
    q.codes().fill((byte) 0xFF);
    q.quantize(x);
    // codes 15, 1, 2, 3, 15: bytes (1 << 4 | 15), (3 << 4 | 2), (padding 0 << 4 | 15)
    assertArrayEquals(new byte[] {(byte) 0x1F, (byte) 0x32, (byte) 0x0F},
        q.codes().toArray(ValueLayout.JAVA_BYTE));
    assertEquals(3, QuantizedTensor.codeBytes(CodeBook.LINEAR_4, 5));
  }

  @Test
  void eightBitCodesOnePerByte() {
    QuantizedTensor q =
        QuantizedTensor.allocate(CodeBook.LINEAR_UNSIGNED_8, Normalization.blockWise(32), 3);
    q.quantize(new float[] {0f, 0.5f, 1f});
    // linspace(0, 1, 256): 0.5 lies exactly between entries 127 and 128; ties go down.
    assertArrayEquals(new byte[] {0, 127, (byte) 255}, q.codes().toArray(ValueLayout.JAVA_BYTE));
  }

  @Test
  void blockScalesAreAbsMaxAndThePartialLastBlockCounts() {
    float[] x = new float[70];
    x[3] = -5f;
    x[40] = 2f;
    x[69] = -0.25f;
    QuantizedTensor q =
        QuantizedTensor.allocate(CodeBook.DE_SIGNED_4, Normalization.blockWise(32), 70);
    q.quantize(x);
    assertArrayEquals(new float[] {5f, 2f, 0.25f}, q.scales().toArray(ValueLayout.JAVA_FLOAT), 0f);
    assertEquals(3 * 4 + 35, q.byteSize());
  }

  @Test
  void rankOneScaleIsTheMinOfRowAndColumnMax() {
    // rows max {4, 1}, column max {4, 2, 3}: scale(1, 0) = min(1, 4) = 1, scale(0, 1) = min(4, 2).
    float[] x = {4f, 2f, -3f, 1f, 0.5f, 0f};
    QuantizedTensor q = QuantizedTensor.allocate(CodeBook.LINEAR_4, Normalization.rank1(), 2, 3);
    q.quantize(x);
    assertArrayEquals(new float[] {4f, 1f, 4f, 2f, 3f},
        q.scales().toArray(ValueLayout.JAVA_FLOAT), 0f);
    float[] y = q.dequantize();
    // -3 is out of the unsigned book's range and goes to its first entry, 1/16 of min(4, 3).
    assertArrayEquals(new float[] {4f, 2f, 3f / 16, 1f, 0.5f, 1f / 16}, y, 0f);
  }

  @Test
  void rankOneOfAThreeDimensionalTensorTakesTheMinOverAllThreeVectors() {
    long[] shape = {2, 3, 4};
    float[] x = StochasticRoundingTest.gaussian(24, 8);
    QuantizedTensor q =
        QuantizedTensor.allocate(CodeBook.DE_SIGNED_4, Normalization.rank1(), shape);
    q.quantize(x);
    assertEquals(2 + 3 + 4, q.scales().byteSize() / 4);
    float[] expectedScale = ReferenceScales.of(Normalization.rank1(), shape, x);
    float[] y = q.dequantize();
    for (int i = 0; i < 24; i++) {
      float s = expectedScale[i];
      assertEquals(CodeBook.DE_SIGNED_4.decode(CodeBook.DE_SIGNED_4.encode(x[i] / s), s), y[i], 0f);
    }
  }

  @Test
  void rankOneOnAVectorFallsBackToBlocksOf128() {
    float[] x = StochasticRoundingTest.gaussian(300, 2);
    QuantizedTensor rank1 = QuantizedTensor.allocate(CodeBook.LINEAR_4, Normalization.rank1(), 300);
    QuantizedTensor b128 =
        QuantizedTensor.allocate(CodeBook.LINEAR_4, Normalization.blockWise(128), 300);
    rank1.quantize(x);
    b128.quantize(x);
    assertEquals(Normalization.blockWise(128), rank1.normalization());
    assertArrayEquals(b128.codes().toArray(ValueLayout.JAVA_BYTE),
        rank1.codes().toArray(ValueLayout.JAVA_BYTE));
    assertArrayEquals(b128.scales().toArray(ValueLayout.JAVA_BYTE),
        rank1.scales().toArray(ValueLayout.JAVA_BYTE));
  }

  /**
   * An optimizer re-quantizes the same state every step, and a second moment shrinks: the second
   * quantize must take its row and column maxima from the new values alone, not from the maxima
   * left in the scales by the first.
   */
  @Test
  void rankOneRequantizedWithSmallerValuesTakesTheNewMaxima() {
    QuantizedTensor q = QuantizedTensor.allocate(CodeBook.LINEAR_4, Normalization.rank1(), 2, 3);
    q.quantize(new float[] {40f, 20f, 30f, 10f, 50f, 60f});
    float[] x = {4f, 2f, -3f, 1f, 0.5f, 0f};
    q.quantize(x);
    // The hand-checked example of rankOneScaleIsTheMinOfRowAndColumnMax: rows {4, 1}, columns
    // {4, 2, 3}.
    assertArrayEquals(new float[] {4f, 1f, 4f, 2f, 3f},
        q.scales().toArray(ValueLayout.JAVA_FLOAT), 0f);
    assertArrayEquals(new float[] {4f, 2f, 3f / 16, 1f, 0.5f, 1f / 16}, q.dequantize(), 0f);
  }

  /**
   * The padding nibble after an odd number of 4-bit codes is written as 0 by every quantizer
   * (PackedCodes' layout), so equal codes mean equal bytes even in a segment that held other data.
   */
  @Test
  void everyNormalizationClearsTheFourBitPadding() {
    // 3 x 5 = 15 codes: 8 bytes, the high nibble of the last one is padding.
    float[] x = StochasticRoundingTest.gaussian(15, 6);
    for (Normalization n : QuantCase.NORMALIZATIONS) {
      QuantizedTensor fresh = QuantizedTensor.allocate(CodeBook.DE1_SIGNED_4, n, 3, 5);
      fresh.quantize(x);
      MemorySegment dirty = MemorySegment.ofArray(new byte[8]);
      dirty.fill((byte) 0xFF);
      QuantizedTensor reused = QuantizedTensor.wrap(CodeBook.DE1_SIGNED_4, n, new long[] {3, 5},
          dirty, MemorySegment.ofArray(new byte[(int) fresh.scales().byteSize()]));
      reused.quantize(x);
      assertEquals(0, dirty.get(ValueLayout.JAVA_BYTE, 7) & 0xF0, n.label());
      assertArrayEquals(fresh.codes().toArray(ValueLayout.JAVA_BYTE),
          dirty.toArray(ValueLayout.JAVA_BYTE), n.label());
    }
  }

  /**
   * A worker given no blocks writes nothing, not even the padding nibble after the last code: that
   * byte also holds the last code, which another worker may be writing at the same time.
   */
  @Test
  void anEmptyBlockRangeWritesNothing() {
    // 65 codes of 4 bits in 33 bytes (the high nibble of the last is padding), blocks of 32: 3.
    byte[] untouched = new byte[33];
    java.util.Arrays.fill(untouched, (byte) 0xFF);
    byte[] codes = untouched.clone();
    float[] scales = {-1f, -1f, -1f};
    MemorySegment src = MemorySegment.ofArray(StochasticRoundingTest.gaussian(65, 3));
    for (long first : new long[] {0, 2, 3}) {
      BlockwiseQuantizer.quantizeBlocks(CodeBook.LINEAR_4, 32, src, 65,
          MemorySegment.ofArray(codes), MemorySegment.ofArray(scales), first, 0, Rounding.NEAREST);
      assertArrayEquals(untouched, codes, "first block " + first);
      assertArrayEquals(new float[] {-1f, -1f, -1f}, scales, 0f, "first block " + first);
    }
  }

  /** The documented labels ("B256", "Rank-1", "PerTensor") and the tensor's own accessors. */
  @Test
  void labelsAndAccessors() {
    assertEquals("B256", Normalization.blockWise(256).label());
    assertEquals("Rank-1", Normalization.rank1().label());
    assertEquals("PerTensor", Normalization.perTensor().label());
    // The singletons print their names as the BlockWise record does, so that a failed assertion
    // or a record holding a normalization (the benchmarks' Scheme) reads.
    assertEquals("BlockWise[blockSize=256]", Normalization.blockWise(256).toString());
    assertEquals("Rank1", Normalization.rank1().toString());
    assertEquals("PerTensor", Normalization.perTensor().toString());
    QuantizedTensor q = QuantizedTensor.allocate(CodeBook.LINEAR_4, Normalization.rank1(), 3, 5);
    assertEquals(CodeBook.LINEAR_4, q.book());
    assertEquals(15, q.length());
    long[] shape = q.shape();
    assertArrayEquals(new long[] {3, 5}, shape);
    shape[0] = 7; // a copy
    assertArrayEquals(new long[] {3, 5}, q.shape());
    assertEquals("QuantizedTensor[linear-4, Rank-1, [3, 5]]", q.toString());
  }

  @Test
  void perTensorHasOneScale() {
    float[] x = {0.5f, -8f, 2f};
    QuantizedTensor q =
        QuantizedTensor.allocate(CodeBook.DYNAMIC_SIGNED_8, Normalization.perTensor(), 3);
    q.quantize(x);
    assertArrayEquals(new float[] {8f}, q.scales().toArray(ValueLayout.JAVA_FLOAT), 0f);
  }

  @Test
  void allZeroTensorsDecodeToZeroEvenWithAZeroFreeBook() {
    for (Normalization n : QuantCase.NORMALIZATIONS) {
      QuantizedTensor q = QuantizedTensor.allocate(CodeBook.LINEAR_4, n, 9, 33);
      q.quantize(new float[9 * 33]);
      assertArrayEquals(new float[9 * 33], q.dequantize(), 0f, n.label());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"0", "0,5", "4,0", "0,0,3"})
  void emptyTensorsWork(String dims) {
    long[] shape = java.util.Arrays.stream(dims.split(",")).mapToLong(Long::parseLong).toArray();
    for (Normalization n : QuantCase.NORMALIZATIONS) {
      for (CodeBook book : CodeBook.builtIns()) {
        QuantizedTensor q = QuantizedTensor.allocate(book, n, shape);
        q.quantize(new float[0]);
        assertEquals(0, q.dequantize().length);
        assertEquals(QuantizedTensor.byteSize(book, n, shape), q.byteSize());
      }
    }
  }

  @Test
  void heapAndNativeSegmentsGiveTheSameBytes() {
    float[] x = StochasticRoundingTest.gaussian(1000, 4);
    for (Normalization n : QuantCase.NORMALIZATIONS) {
      QuantizedTensor heap = QuantizedTensor.allocate(CodeBook.DE_SIGNED_4, n, 25, 40);
      heap.quantize(x);
      try (Arena arena = Arena.ofConfined()) {
        QuantizedTensor off = QuantizedTensor.allocate(CodeBook.DE_SIGNED_4, n, arena, 25, 40);
        MemorySegment src = arena.allocate(4000, 4);
        MemorySegment.copy(x, 0, src, ValueLayout.JAVA_FLOAT, 0, 1000);
        off.quantize(src);
        assertArrayEquals(heap.codes().toArray(ValueLayout.JAVA_BYTE),
            off.codes().toArray(ValueLayout.JAVA_BYTE));
        assertArrayEquals(heap.scales().toArray(ValueLayout.JAVA_BYTE),
            off.scales().toArray(ValueLayout.JAVA_BYTE));
        MemorySegment dst = arena.allocate(4000, 4);
        off.dequantize(dst);
        assertArrayEquals(heap.dequantize(), dst.toArray(ValueLayout.JAVA_FLOAT), 0f);
      }
    }
  }

  @Test
  void memoryCostMatchesAlgorithmsSection3() {
    long[] shape = {1024, 1024};
    long n = 1024 * 1024;
    // 8-bit B256: 1 + 4/256 bytes per parameter per moment.
    assertEquals(n + 4 * n / 256,
        QuantizedTensor.byteSize(CodeBook.DYNAMIC_SIGNED_8, Normalization.blockWise(256), shape));
    // 4-bit B128: 0.5 + 4/128; rank-1: 0.5 + 4 (r + c) / (r c).
    assertEquals(n / 2 + 4 * n / 128,
        QuantizedTensor.byteSize(CodeBook.DE_SIGNED_4, Normalization.blockWise(128), shape));
    assertEquals(n / 2 + 4 * 2048,
        QuantizedTensor.byteSize(CodeBook.LINEAR_4, Normalization.rank1(), shape));
  }
}
