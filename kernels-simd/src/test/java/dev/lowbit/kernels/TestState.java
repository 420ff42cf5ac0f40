package dev.lowbit.kernels;

import dev.lowbit.quant.BlockwiseQuantizer;
import dev.lowbit.quant.CodeBook;
import dev.lowbit.quant.PackedCodes;
import dev.lowbit.quant.Rank1Quantizer;
import dev.lowbit.quant.Rounding;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A moment held in plain Java arrays, for tests: it can be bound to heap or native segments for
 * a kernel call, decoded and re-encoded through quant-blockwise (the oracle), and compared
 * exactly with another.
 */
final class TestState {

  /** What kind of state and its format. */
  enum Kind {
    FP32,
    BLOCKWISE,
    RANK1,
    FACTORIZED
  }

  /** A state format: kind, book and block size (where they apply). */
  record Spec(Kind kind, CodeBook book, int blockSize) {
    static Spec fp32() {
      return new Spec(Kind.FP32, null, 0);
    }

    static Spec blockwise(CodeBook book, int blockSize) {
      return new Spec(Kind.BLOCKWISE, book, blockSize);
    }

    static Spec rank1(CodeBook book) {
      return new Spec(Kind.RANK1, book, 0);
    }

    static Spec factorized() {
      return new Spec(Kind.FACTORIZED, null, 0);
    }

    @Override
    public String toString() {
      return switch (kind) {
        case FP32 -> "fp32";
        case BLOCKWISE -> book.name() + "/B" + blockSize;
        case RANK1 -> book.name() + "/rank1";
        case FACTORIZED -> "factorized";
      };
    }
  }

  final Spec spec;
  final long batch;
  final long rows;
  final long cols;
  final int length;
  float[] values; // FP32
  byte[] codes; // BLOCKWISE, RANK1
  float[] scales; // BLOCKWISE: per block; RANK1: rows then cols
  float[] rowStats; // FACTORIZED
  float[] colStats; // FACTORIZED

  private TestState(Spec spec, long batch, long rows, long cols) {
    this.spec = spec;
    this.batch = batch;
    this.rows = rows;
    this.cols = cols;
    this.length = Math.toIntExact(batch * rows * cols);
  }

  /**
   * A state whose (old) values are {@code initial}, quantized by the oracle where needed. For a
   * factorized state the statistics are taken from {@code initial}'s first floats.
   */
  static TestState of(Spec spec, long batch, long rows, long cols, float[] initial) {
    TestState s = new TestState(spec, batch, rows, cols);
    switch (spec.kind()) {
      case FP32 -> s.values = initial.clone();
      case BLOCKWISE, RANK1 -> s.encode(initial);
      case FACTORIZED -> {
        s.rowStats = new float[Math.toIntExact(batch * rows)];
        s.colStats = new float[Math.toIntExact(batch * cols)];
        for (int i = 0; i < s.rowStats.length; i++) {
          s.rowStats[i] = Math.abs(initial[i % initial.length]);
        }
        for (int j = 0; j < s.colStats.length; j++) {
          s.colStats[j] = Math.abs(initial[(j * 7 + 3) % initial.length]);
        }
      }
    }
    return s;
  }

  TestState copy() {
    TestState c = new TestState(spec, batch, rows, cols);
    c.values = values == null ? null : values.clone();
    c.codes = codes == null ? null : codes.clone();
    c.scales = scales == null ? null : scales.clone();
    c.rowStats = rowStats == null ? null : rowStats.clone();
    c.colStats = colStats == null ? null : colStats.clone();
    return c;
  }

  /** The old values as the kernels must see them (factorized: not meaningful, returns null). */
  float[] decode() {
    float[] out = new float[length];
    MemorySegment dst = MemorySegment.ofArray(out);
    switch (spec.kind()) {
      case FP32 -> System.arraycopy(values, 0, out, 0, length);
      case BLOCKWISE ->
          BlockwiseQuantizer.dequantize(
              spec.book(), spec.blockSize(), MemorySegment.ofArray(codes),
              MemorySegment.ofArray(scales), length, dst);
      case RANK1 ->
          Rank1Quantizer.dequantize(
              spec.book(), new long[] {rows, cols}, MemorySegment.ofArray(codes),
              MemorySegment.ofArray(scales), dst);
      case FACTORIZED -> {
        return null;
      }
    }
    return out;
  }

  /** Replaces the state by the oracle's quantization of {@code newValues}. */
  void encode(float[] newValues) {
    switch (spec.kind()) {
      case FP32 -> values = newValues.clone();
      case BLOCKWISE -> {
        codes = new byte[(int) PackedCodes.byteSize(spec.book().bits(), length)];
        scales = new float[(length + spec.blockSize() - 1) / spec.blockSize()];
        BlockwiseQuantizer.quantize(
            spec.book(), spec.blockSize(), MemorySegment.ofArray(newValues), length,
            MemorySegment.ofArray(codes), MemorySegment.ofArray(scales), Rounding.NEAREST);
      }
      case RANK1 -> {
        codes = new byte[(int) PackedCodes.byteSize(spec.book().bits(), length)];
        scales = new float[Math.toIntExact(rows + cols)];
        Rank1Quantizer.quantize(
            spec.book(), new long[] {rows, cols}, MemorySegment.ofArray(newValues),
            MemorySegment.ofArray(codes), MemorySegment.ofArray(scales), Rounding.NEAREST);
      }
      case FACTORIZED ->
          throw new IllegalStateException("factorized state has no per-element values");
    }
  }

  /** Segments for one kernel call, and how to copy native results back. */
  final class Bound {
    final MomentState state;
    private final List<Runnable> readBack = new ArrayList<>();

    private Bound(Arena arena) {
      state =
          switch (spec.kind()) {
            case FP32 -> new Fp32Moment(segment(arena, values));
            case BLOCKWISE ->
                new BlockwiseMoment(
                    spec.book(), spec.blockSize(), segment(arena, codes), segment(arena, scales));
            case RANK1 -> {
              float[] rowPart = Arrays.copyOfRange(scales, 0, (int) rows);
              float[] colPart = Arrays.copyOfRange(scales, (int) rows, scales.length);
              MemorySegment r = segment(arena, rowPart);
              MemorySegment c = segment(arena, colPart);
              readBack.add(
                  () -> {
                    System.arraycopy(rowPart, 0, scales, 0, rowPart.length);
                    System.arraycopy(colPart, 0, scales, rowPart.length, colPart.length);
                  });
              yield new Rank1Moment(spec.book(), rows, cols, segment(arena, codes), r, c);
            }
            case FACTORIZED ->
                new FactorizedMoment(
                    batch, rows, cols, segment(arena, rowStats), segment(arena, colStats));
          };
    }

    /** Copies native results into the arrays (heap segments wrote them directly). */
    void readBack() {
      readBack.forEach(Runnable::run);
    }

    private MemorySegment segment(Arena arena, float[] array) {
      if (arena == null) {
        return MemorySegment.ofArray(array);
      }
      MemorySegment s = arena.allocate(array.length * 4L + 1, 4);
      MemorySegment.copy(array, 0, s, ValueLayout.JAVA_FLOAT, 0, array.length);
      readBack.add(() -> MemorySegment.copy(s, ValueLayout.JAVA_FLOAT, 0, array, 0, array.length));
      return s;
    }

    private MemorySegment segment(Arena arena, byte[] array) {
      if (arena == null) {
        return MemorySegment.ofArray(array);
      }
      MemorySegment s = arena.allocate(array.length + 1L, 1);
      MemorySegment.copy(array, 0, s, ValueLayout.JAVA_BYTE, 0, array.length);
      readBack.add(() -> MemorySegment.copy(s, ValueLayout.JAVA_BYTE, 0, array, 0, array.length));
      return s;
    }
  }

  /**
   * Binds this state to segments: over the arrays themselves when {@code arena} is null, else
   * native copies.
   */
  Bound bind(Arena arena) {
    return new Bound(arena);
  }

  /** Everything stored, for exact comparison. */
  String describeDifference(TestState other) {
    if (!Arrays.equals(values, other.values)) {
      return "fp32 values differ at " + Arrays.mismatch(values, other.values);
    }
    if (!Arrays.equals(codes, other.codes)) {
      return "codes differ at byte " + Arrays.mismatch(codes, other.codes);
    }
    if (!Arrays.equals(scales, other.scales)) {
      return "scales differ at " + Arrays.mismatch(scales, other.scales);
    }
    if (!Arrays.equals(rowStats, other.rowStats)) {
      return "row statistics differ at " + Arrays.mismatch(rowStats, other.rowStats);
    }
    if (!Arrays.equals(colStats, other.colStats)) {
      return "column statistics differ at " + Arrays.mismatch(colStats, other.colStats);
    }
    return null;
  }
}
