package dev.lowbit.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.quant.CodeBook;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The contract of {@link OptimizerKernels}, checked against {@link ReferenceSteps} (whole-tensor
 * arrays re-encoded by quant-blockwise): parameters, codes, scales and statistics must be
 * identical, for heap and native segments, at every block boundary, with all-zero blocks. A
 * subclass names the implementation under test.
 */
abstract class KernelContractTest {

  /** The implementation under test. */
  abstract OptimizerKernels kernels();

  /** A tensor shape: {@code batch x rows x cols}. */
  record Shape(long batch, long rows, long cols) {
    int length() {
      return Math.toIntExact(batch * rows * cols);
    }

    @Override
    public String toString() {
      return batch + "x" + rows + "x" + cols + "=" + length();
    }
  }

  /** Lengths 1, 7, 127, 128, 129, 255, 256, 257, 4097 and two-chunk and odd-column shapes. */
  static final List<Shape> SHAPES =
      List.of(
          new Shape(1, 1, 1),
          new Shape(1, 1, 7),
          new Shape(1, 127, 1),
          new Shape(1, 8, 16),
          new Shape(1, 3, 43),
          new Shape(1, 15, 17),
          new Shape(2, 8, 16),
          new Shape(1, 1, 257),
          new Shape(1, 17, 241),
          new Shape(1, 5, 1639));

  static final List<TestState.Spec> M_SPECS =
      List.of(
          TestState.Spec.fp32(),
          TestState.Spec.blockwise(CodeBook.DYNAMIC_SIGNED_8, 256),
          TestState.Spec.blockwise(CodeBook.DE_SIGNED_4, 128),
          TestState.Spec.blockwise(CodeBook.DE1_SIGNED_4, 128));

  static final List<TestState.Spec> V_SPECS =
      List.of(
          TestState.Spec.fp32(),
          TestState.Spec.blockwise(CodeBook.DYNAMIC_UNSIGNED_8, 256),
          TestState.Spec.blockwise(CodeBook.LINEAR_4, 128),
          TestState.Spec.blockwise(CodeBook.LINEAR_4, 32),
          TestState.Spec.rank1(CodeBook.LINEAR_4),
          TestState.Spec.rank1(CodeBook.DYNAMIC_UNSIGNED_8),
          TestState.Spec.factorized());

  static final List<TestState.Spec> BUFFER_SPECS =
      List.of(
          TestState.Spec.fp32(),
          TestState.Spec.blockwise(CodeBook.DYNAMIC_SIGNED_8, 256),
          TestState.Spec.blockwise(CodeBook.DE1_SIGNED_4, 128),
          TestState.Spec.blockwise(CodeBook.DE_SIGNED_4, 4096));

  /** AdamW as optimizer-core computes it at step 3, and Adam with every gradient option. */
  static final List<AdamScalars> ADAM_SCALARS =
      List.of(
          adamW(3, 1e-3f, 0.01f),
          new AdamScalars(0.9f, 0.99f, 2e-3f, 1.1f, 1e-6f, 0f, 0.05f, 0.5f, 0.02f));

  static AdamScalars adamW(int t, float lr, float wd) {
    float b1 = 0.9f;
    float b2 = 0.999f;
    float stepSize = (float) (lr / (1 - Math.pow(b1, t)));
    float vScale = (float) (1 / Math.sqrt(1 - Math.pow(b2, t)));
    return new AdamScalars(b1, b2, stepSize, vScale, 1e-8f, lr * wd, 0f, 1f, 0f);
  }

  static Stream<Arguments> adamCases() {
    List<Arguments> cases = new ArrayList<>();
    for (Shape shape : SHAPES) {
      for (TestState.Spec m : M_SPECS) {
        for (TestState.Spec v : V_SPECS) {
          cases.add(Arguments.of(shape, m, v));
        }
      }
    }
    return cases.stream();
  }

  static Stream<Arguments> sgdCases() {
    List<Arguments> cases = new ArrayList<>();
    for (Shape shape : SHAPES) {
      for (TestState.Spec b : BUFFER_SPECS) {
        cases.add(Arguments.of(shape, b));
      }
    }
    return cases.stream();
  }

  /** Test data: gradient, parameter and old moments, with an all-zero region at the start. */
  static final class Data {
    final float[] param;
    final float[] grad;
    final float[] oldM;
    final float[] oldV;

    Data(int length, long seed) {
      SplittableRandom random = new SplittableRandom(seed);
      param = new float[length];
      grad = new float[length];
      oldM = new float[length];
      oldV = new float[length];
      // The first 300 elements (a whole 128-block, more than a 256-block) stay 0 in g, m and v,
      // so all-zero blocks are quantized with scale 0; the rest is Adam-like data.
      int zeros = length > 600 ? 300 : 0;
      for (int i = 0; i < length; i++) {
        param[i] = (float) random.nextGaussian();
        if (i >= zeros) {
          float g = (float) (random.nextGaussian() * Math.exp(random.nextGaussian()) * 1e-2);
          grad[i] = g;
          oldM[i] = (float) (random.nextGaussian() * 1e-2);
          oldV[i] =
              (float) (Math.pow(random.nextGaussian() * 1e-2, 2) + 1e-12 * random.nextDouble());
        }
      }
    }
  }

  /** Where the pass also clears: nowhere, a separate segment, or the gradient itself. */
  enum Clear {
    NONE,
    SEPARATE,
    GRADIENT
  }

  /** Runs the kernel on copies bound to heap ({@code arena == null}) or native segments. */
  void runAdam(
      AdamScalars s, float[] param, float[] grad, TestState m, TestState v, Arena arena,
      int threads) {
    runAdam(s, param, grad, m, v, arena, threads, Clear.NONE);
  }

  /** {@link #runAdam}, clearing as asked and checking that the cleared floats are zero. */
  void runAdam(
      AdamScalars s, float[] param, float[] grad, TestState m, TestState v, Arena arena,
      int threads, Clear clear) {
    TestState.Bound bm = m.bind(arena);
    TestState.Bound bv = v.bind(arena);
    MemorySegment p = floats(arena, param);
    MemorySegment g = floats(arena, java.util.Arrays.copyOf(grad, grad.length + 1));
    MemorySegment c = clearSegment(clear, g, arena, grad.length);
    kernels().adam(s, p, g, param.length, bm.state, bv.state, threads, c);
    bm.readBack();
    bv.readBack();
    MemorySegment.copy(p, ValueLayout.JAVA_FLOAT, 0, param, 0, param.length);
    assertCleared(c, param.length);
  }

  void runSgd(
      SgdScalars s, float[] param, float[] grad, TestState b, Arena arena, int threads,
      Clear clear) {
    TestState.Bound bb = b.bind(arena);
    MemorySegment p = floats(arena, param);
    MemorySegment g = floats(arena, java.util.Arrays.copyOf(grad, grad.length + 1));
    MemorySegment c = clearSegment(clear, g, arena, grad.length);
    kernels().sgd(s, p, g, param.length, bb.state, threads, c);
    bb.readBack();
    MemorySegment.copy(p, ValueLayout.JAVA_FLOAT, 0, param, 0, param.length);
    assertCleared(c, param.length);
  }

  /**
   * The segment to clear: null, a fresh one, or the gradient (one float longer than the step
   * reads); its float {@code n} is a sentinel 7 that must survive.
   */
  private static MemorySegment clearSegment(Clear clear, MemorySegment grad, Arena arena, int n) {
    MemorySegment c = switch (clear) {
      case NONE -> null;
      case SEPARATE -> floats(arena, new float[n + 1]);
      case GRADIENT -> grad;
    };
    if (c != null) {
      if (clear == Clear.SEPARATE) {
        c.asSlice(0, (long) n * Float.BYTES).fill((byte) 0x40); // 2.0004 everywhere
      }
      c.setAtIndex(ValueLayout.JAVA_FLOAT, n, 7f);
    }
    return c;
  }

  /** Floats [0, n) of a cleared segment are +0 and float n (the sentinel 7) is untouched. */
  private static void assertCleared(MemorySegment clear, int n) {
    if (clear == null) {
      return;
    }
    for (int i = 0; i < n; i++) {
      if (clear.getAtIndex(ValueLayout.JAVA_INT, i) != 0) {
        throw new AssertionError("not cleared at " + i);
      }
    }
    assertEquals(
        7f, clear.getAtIndex(ValueLayout.JAVA_FLOAT, n), "sentinel after the cleared floats");
  }

  static MemorySegment floats(Arena arena, float[] values) {
    if (arena == null) {
      return MemorySegment.ofArray(values);
    }
    MemorySegment s = arena.allocate(values.length * 4L + 4, 4);
    MemorySegment.copy(values, 0, s, ValueLayout.JAVA_FLOAT, 0, values.length);
    return s;
  }

  void checkAdam(
      Shape shape, TestState.Spec mSpec, TestState.Spec vSpec, int threads, boolean nat) {
    checkAdam(shape, mSpec, vSpec, threads, nat, Clear.NONE);
  }

  void checkAdam(
      Shape shape, TestState.Spec mSpec, TestState.Spec vSpec, int threads, boolean nat,
      Clear clear) {
    Data d = new Data(shape.length(), shape.length() * 31L + threads);
    for (AdamScalars s : ADAM_SCALARS) {
      TestState m = TestState.of(mSpec, shape.batch(), shape.rows(), shape.cols(), d.oldM);
      TestState v = TestState.of(vSpec, 1, shape.batch() * shape.rows(), shape.cols(), d.oldV);
      if (vSpec.kind() == TestState.Kind.FACTORIZED) {
        v = TestState.of(vSpec, shape.batch(), shape.rows(), shape.cols(), d.oldV);
      }
      TestState mExpected = m.copy();
      TestState vExpected = v.copy();
      float[] pExpected = d.param.clone();
      ReferenceSteps.adam(s, pExpected, d.grad, mExpected, vExpected);

      float[] p = d.param.clone();
      try (Arena arena = Arena.ofShared()) {
        runAdam(s, p, d.grad, m, v, nat ? arena : null, threads, clear);
      }
      String where =
          shape + " m=" + mSpec + " v=" + vSpec + " threads=" + threads + " clear=" + clear
              + " " + s;
      assertArrayEquals(pExpected, p, "parameters, " + where);
      assertNull(m.describeDifference(mExpected), "m, " + where);
      assertNull(v.describeDifference(vExpected), "v, " + where);
    }
  }

  @ParameterizedTest(name = "adam {0} m={1} v={2}")
  @MethodSource("adamCases")
  void adamMatchesReferenceOnHeapAndNative(Shape shape, TestState.Spec m, TestState.Spec v) {
    checkAdam(shape, m, v, 1, false);
    checkAdam(shape, m, v, 2, true);
  }

  /**
   * A rank-1 second moment of a tensor of rank 3 (rowDims {2, 3}, 5 columns) is the rank-1
   * quantization of shape {2, 3, 5} (quant-blockwise's oracle): each element's scale is the min of
   * its three dimension maxima. The kernel keeps that min over the two leading dimensions as the
   * row scale, which is larger than the row's own maximum for some rows of this data; treating
   * the tensor as a 6 x 5 matrix would store those rows' maxima instead.
   */
  @org.junit.jupiter.api.Test
  void rank1SecondMomentOfARank3TensorIsTheRank1QuantizationOfItsShape() {
    long[] shape = {2, 3, 5};
    int rows = 6;
    int cols = 5;
    int n = rows * cols;
    CodeBook book = CodeBook.DYNAMIC_UNSIGNED_8;
    SplittableRandom random = new SplittableRandom(7);
    float[] param = new float[n];
    float[] grad = new float[n];
    float[] oldV = new float[n];
    for (int i = 0; i < n; i++) {
      param[i] = (float) random.nextGaussian();
      grad[i] = (float) (random.nextGaussian() * 1e-2);
      oldV[i] = (float) Math.pow(random.nextGaussian() * 1e-2, 2);
    }
    // The old state: the oracle's per-dimension maxima, the leading two combined per row.
    byte[] codes = new byte[n];
    float[] dimMax = new float[2 + 3 + 5];
    dev.lowbit.quant.Rank1Quantizer.quantize(
        book, shape, MemorySegment.ofArray(oldV), MemorySegment.ofArray(codes),
        MemorySegment.ofArray(dimMax), dev.lowbit.quant.Rounding.NEAREST);
    float[] oldDecoded = new float[n];
    dev.lowbit.quant.Rank1Quantizer.dequantize(
        book, shape, MemorySegment.ofArray(codes), MemorySegment.ofArray(dimMax),
        MemorySegment.ofArray(oldDecoded));
    float[] rowScales = leadingRowScales(dimMax);
    float[] colScales = java.util.Arrays.copyOfRange(dimMax, 5, 10);

    AdamScalars s = ADAM_SCALARS.get(1);
    float[] newV = new float[n];
    for (int i = 0; i < n; i++) {
      float g = ReferenceSteps.transform(grad[i], param[i], s.gradScale(), s.clip(), s.l2Decay());
      newV[i] = s.beta2() * oldDecoded[i] + (1f - s.beta2()) * (g * g);
    }
    byte[] expectedCodes = new byte[n];
    float[] expectedMax = new float[10];
    dev.lowbit.quant.Rank1Quantizer.quantize(
        book, shape, MemorySegment.ofArray(newV), MemorySegment.ofArray(expectedCodes),
        MemorySegment.ofArray(expectedMax), dev.lowbit.quant.Rounding.NEAREST);
    float[] expectedRows = leadingRowScales(expectedMax);
    boolean aRowScaleAboveItsRowMax = false;
    for (int r = 0; r < rows; r++) {
      float rowMax = ScalarKernels.absMax(newV, r * cols, (r + 1) * cols);
      aRowScaleAboveItsRowMax |= expectedRows[r] > rowMax;
    }
    assertTrue(aRowScaleAboveItsRowMax, "the data must tell the rank-3 scales from a matrix's");

    Rank1Moment v =
        new Rank1Moment(
            book, rows, cols, MemorySegment.ofArray(codes), MemorySegment.ofArray(rowScales),
            MemorySegment.ofArray(colScales), new long[] {2, 3});
    kernels()
        .adam(
            s, MemorySegment.ofArray(param), MemorySegment.ofArray(grad), n,
            new Fp32Moment(MemorySegment.ofArray(new float[n])), v, 1);
    assertArrayEquals(expectedRows, rowScales, "row scales");
    assertArrayEquals(java.util.Arrays.copyOfRange(expectedMax, 5, 10), colScales, "column scales");
    assertArrayEquals(expectedCodes, codes, "codes");
  }

  /** Row (i0, i1) of shape {2, 3, ...}: min of dimension 0's max i0 and dimension 1's max i1. */
  private static float[] leadingRowScales(float[] dimMax) {
    float[] rowScales = new float[6];
    for (int i0 = 0; i0 < 2; i0++) {
      for (int i1 = 0; i1 < 3; i1++) {
        rowScales[i0 * 3 + i1] = Math.min(dimMax[i0], dimMax[2 + i1]);
      }
    }
    return rowScales;
  }

  @ParameterizedTest(name = "sgd {0} b={1}")
  @MethodSource("sgdCases")
  void sgdMatchesReferenceOnHeapAndNative(Shape shape, TestState.Spec spec) {
    for (boolean nat : new boolean[] {false, true}) {
      checkSgd(shape, spec, 1, nat);
    }
  }

  void checkSgd(Shape shape, TestState.Spec spec, int threads, boolean nat) {
    checkSgd(shape, spec, threads, nat, Clear.NONE);
  }

  void checkSgd(Shape shape, TestState.Spec spec, int threads, boolean nat, Clear clear) {
    Data d = new Data(shape.length(), shape.length() * 17L + threads);
    List<SgdScalars> variants =
        List.of(
            new SgdScalars(0.1f, 0.9f, false, 0f, 1f, 0f, false),
            new SgdScalars(0.05f, 0.9f, true, 1e-4f, 0.5f, 0.01f, false),
            new SgdScalars(0.1f, 0.9f, false, 1e-4f, 1f, 0f, true));
    for (SgdScalars s : variants) {
      TestState b = TestState.of(spec, shape.batch(), shape.rows(), shape.cols(), d.oldM);
      TestState bExpected = b.copy();
      float[] pExpected = d.param.clone();
      ReferenceSteps.sgd(s, pExpected, d.grad, bExpected);
      float[] p = d.param.clone();
      try (Arena arena = Arena.ofShared()) {
        runSgd(s, p, d.grad, b, nat ? arena : null, threads, clear);
      }
      String where = shape + " b=" + spec + " threads=" + threads + " " + s;
      assertArrayEquals(pExpected, p, "parameters, " + where);
      assertNull(b.describeDifference(bExpected), "buffer, " + where);
    }
  }

  static Stream<TestState.Spec> rowWiseSecondMoments() {
    return V_SPECS.stream()
        .filter(v -> v.kind() == TestState.Kind.RANK1 || v.kind() == TestState.Kind.FACTORIZED);
  }

  /**
   * Rows longer than one kernel chunk ({@link SquareSums#CHUNK} = 4096 floats): the rank-1 maxima
   * and the factorized row sums walk such a row in several pieces, which no shape above has (its
   * widest row is 1639). A 768 x 50257 output projection has rows like that.
   */
  @ParameterizedTest(name = "adam rows wider than a chunk, v={0}")
  @MethodSource("rowWiseSecondMoments")
  void rowsWiderThanAChunkMatchTheReference(TestState.Spec v) {
    checkAdam(new Shape(1, 3, 4100), M_SPECS.get(2), v, 1, false);
    checkAdam(new Shape(2, 2, 2 * 4096 + 5), M_SPECS.get(1), v, 2, true);
  }

  /**
   * MomentState: with 4-bit codes and an odd length the padding nibble after the last code is
   * written as 0 by every step, whatever it held (a state loaded from elsewhere), so equal codes
   * always mean equal bytes. The reference re-encodes through quant-blockwise, which writes 0.
   */
  @org.junit.jupiter.api.Test
  void fourBitPaddingIsWrittenAsZero() {
    Shape shape = new Shape(1, 3, 43); // 129 elements: 65 bytes, the last one half padding
    Data d = new Data(shape.length(), 12);
    AdamScalars s = ADAM_SCALARS.get(0);
    for (TestState.Spec vSpec :
        List.of(TestState.Spec.rank1(CodeBook.LINEAR_4),
            TestState.Spec.blockwise(CodeBook.LINEAR_4, 32))) {
      TestState m = TestState.of(M_SPECS.get(3), 1, shape.rows(), shape.cols(), d.oldM);
      TestState v = TestState.of(vSpec, 1, shape.rows(), shape.cols(), d.oldV);
      TestState mExpected = m.copy();
      TestState vExpected = v.copy();
      float[] pExpected = d.param.clone();
      ReferenceSteps.adam(s, pExpected, d.grad, mExpected, vExpected);
      m.codes[64] |= (byte) 0xA0;
      v.codes[64] |= (byte) 0xA0;
      float[] p = d.param.clone();
      runAdam(s, p, d.grad, m, v, null, 1);
      assertEquals(0, m.codes[64] & 0xF0, "m padding");
      assertEquals(0, v.codes[64] & 0xF0, "v padding, " + vSpec);
      assertArrayEquals(pExpected, p);
      assertNull(m.describeDifference(mExpected));
      assertNull(v.describeDifference(vExpected));
    }
    SgdScalars sgd = new SgdScalars(0.1f, 0.9f, false, 0f, 1f, 0f, false);
    TestState b = TestState.of(BUFFER_SPECS.get(2), 1, shape.rows(), shape.cols(), d.oldM);
    TestState bExpected = b.copy();
    float[] pExpected = d.param.clone();
    ReferenceSteps.sgd(sgd, pExpected, d.grad, bExpected);
    b.codes[64] |= (byte) 0xA0;
    float[] p = d.param.clone();
    runSgd(sgd, p, d.grad, b, null, 1, Clear.NONE);
    assertEquals(0, b.codes[64] & 0xF0, "buffer padding");
    assertArrayEquals(pExpected, p);
    assertNull(b.describeDifference(bExpected));
  }

  static Stream<Arguments> threadCases() {
    List<Arguments> cases = new ArrayList<>();
    Shape big = new Shape(1, 300, 333);
    Shape batched = new Shape(2, 150, 333);
    for (TestState.Spec m : M_SPECS) {
      for (TestState.Spec v : V_SPECS) {
        cases.add(Arguments.of(v.kind() == TestState.Kind.FACTORIZED ? batched : big, m, v));
      }
    }
    return cases.stream();
  }

  @ParameterizedTest(name = "adam threads 1-3 {0} m={1} v={2}")
  @MethodSource("threadCases")
  void adamIsIdenticalForOneTwoAndThreeThreads(Shape shape, TestState.Spec m, TestState.Spec v) {
    for (int threads = 1; threads <= 3; threads++) {
      checkAdam(shape, m, v, threads, threads == 2);
    }
  }

  @ParameterizedTest(name = "sgd threads 1-3 b={0}")
  @MethodSource("bufferSpecs")
  void sgdIsIdenticalForOneTwoAndThreeThreads(TestState.Spec spec) {
    for (int threads = 1; threads <= 3; threads++) {
      checkSgd(new Shape(1, 1, 100_003), spec, threads, threads == 3);
    }
  }

  static Stream<Arguments> clearCases() {
    List<Arguments> cases = new ArrayList<>();
    for (Clear clear : new Clear[] {Clear.SEPARATE, Clear.GRADIENT}) {
      for (TestState.Spec m : M_SPECS) {
        for (TestState.Spec v : V_SPECS) {
          cases.add(Arguments.of(m, v, clear));
        }
      }
    }
    return cases.stream();
  }

  /**
   * Clearing in the pass: the step writes what the reference writes, the cleared floats are 0
   * and the float after them is untouched. Clearing the gradient itself must not change the step
   * either: rank-1 and factorized second moments read the gradient in a first pass, the fused
   * pass reads it again before it clears a chunk. Several chunks, one and two threads.
   */
  @ParameterizedTest(name = "adam clears {2}, m={0} v={1}")
  @MethodSource("clearCases")
  void adamClearsInThePassAndStepsAsWithout(TestState.Spec m, TestState.Spec v, Clear clear) {
    Shape shape = v.kind() == TestState.Kind.FACTORIZED
        ? new Shape(2, 150, 333) : new Shape(1, 300, 333);
    checkAdam(shape, m, v, 1, false, clear);
    checkAdam(shape, m, v, 2, true, clear);
  }

  @ParameterizedTest(name = "sgd clears the gradient, b={0}")
  @MethodSource("bufferSpecs")
  void sgdClearsTheGradientInThePassAndStepsAsWithout(TestState.Spec spec) {
    checkSgd(new Shape(1, 1, 100_003), spec, 1, false, Clear.GRADIENT);
    checkSgd(new Shape(1, 1, 100_003), spec, 2, true, Clear.SEPARATE);
  }

  static Stream<TestState.Spec> bufferSpecs() {
    return BUFFER_SPECS.stream();
  }

  @ParameterizedTest(name = "sumOfSquares length {0}")
  @MethodSource("sumLengths")
  void sumOfSquaresFollowsTheDocumentedOrderForEveryThreadCount(int length) {
    float[] x = new Data(length + 1, length).param;
    x = java.util.Arrays.copyOf(x, length);
    double expected = ReferenceSteps.sumOfSquares(x);
    double plain = 0;
    for (float f : x) {
      plain += (double) f * f;
    }
    assertEquals(
        plain, expected, 1e-12 * Math.max(1, plain), "the order is still a sum of squares");
    try (Arena arena = Arena.ofShared()) {
      MemorySegment nativeX = floats(arena, x);
      for (int threads = 1; threads <= 3; threads++) {
        assertEquals(
            expected, kernels().sumOfSquares(MemorySegment.ofArray(x), length, threads), 0.0);
        assertEquals(expected, kernels().sumOfSquares(nativeX, length, threads), 0.0);
      }
    }
  }

  @org.junit.jupiter.api.Test
  void segmentsConfinedToTheCallerRunOnItsThreadWithTheSameResult() {
    Shape shape = new Shape(1, 300, 333);
    Data d = new Data(shape.length(), 3);
    TestState.Spec mSpec = M_SPECS.get(1);
    TestState.Spec vSpec = V_SPECS.get(4);
    AdamScalars s = ADAM_SCALARS.get(1);
    TestState m = TestState.of(mSpec, 1, shape.rows(), shape.cols(), d.oldM);
    TestState v = TestState.of(vSpec, 1, shape.rows(), shape.cols(), d.oldV);
    TestState mExpected = m.copy();
    TestState vExpected = v.copy();
    float[] pExpected = d.param.clone();
    ReferenceSteps.adam(s, pExpected, d.grad, mExpected, vExpected);
    float[] p = d.param.clone();
    try (Arena confined = Arena.ofConfined()) {
      runAdam(s, p, d.grad, m, v, confined, 2);
    }
    assertArrayEquals(pExpected, p);
    assertNull(m.describeDifference(mExpected));
    assertNull(v.describeDifference(vExpected));
    float[] x = d.param;
    try (Arena confined = Arena.ofConfined()) {
      assertEquals(
          ReferenceSteps.sumOfSquares(x),
          kernels().sumOfSquares(floats(confined, x), x.length, 2),
          0.0);
    }
  }

  /**
   * A thread count below 1 is refused naming it, before anything is written (it used to count
   * as 1 here while {@link MatrixKernels} refused it).
   */
  @ParameterizedTest(name = "threads {0}")
  @org.junit.jupiter.params.provider.ValueSource(ints = {0, -1, Integer.MIN_VALUE})
  void aThreadCountBelowOneIsRefusedBeforeAnythingIsWritten(int threads) {
    Shape shape = new Shape(1, 3, 43);
    Data d = new Data(shape.length(), 5);
    TestState m = TestState.of(M_SPECS.get(1), 1, shape.rows(), shape.cols(), d.oldM);
    TestState v = TestState.of(V_SPECS.get(1), 1, shape.rows(), shape.cols(), d.oldV);
    TestState b = TestState.of(BUFFER_SPECS.get(1), 1, shape.rows(), shape.cols(), d.oldM);
    TestState mBefore = m.copy();
    TestState vBefore = v.copy();
    TestState bBefore = b.copy();
    float[] p = d.param.clone();
    float[] g = d.grad.clone();
    List<org.junit.jupiter.api.function.Executable> calls = List.of(
        () -> runAdam(ADAM_SCALARS.get(1), p, g, m, v, null, threads, Clear.GRADIENT),
        () -> runSgd(new SgdScalars(0.1f, 0.9f, false, 0f, 1f, 0f, false), p, g, b, null, threads,
            Clear.GRADIENT),
        () -> kernels().sumOfSquares(MemorySegment.ofArray(g), g.length, threads),
        () -> kernels().firstNonFinite(MemorySegment.ofArray(g), g.length, threads),
        () -> kernels().firstBeyond(MemorySegment.ofArray(g), g.length, 1f, threads));
    for (org.junit.jupiter.api.function.Executable call : calls) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
      assertEquals("threads must be >= 1, got " + threads, e.getMessage());
    }
    assertArrayEquals(d.param, p);
    assertArrayEquals(d.grad, g);
    assertNull(m.describeDifference(mBefore));
    assertNull(v.describeDifference(vBefore));
    assertNull(b.describeDifference(bBefore));
  }

  static Stream<Integer> sumLengths() {
    return Stream.of(0, 1, 7, 15, 16, 17, 4095, 4096, 4097, 100_003, 300_000);
  }

  @ParameterizedTest(name = "firstNonFinite length {0}")
  @MethodSource("sumLengths")
  void firstNonFiniteFindsTheFirstBadIndex(int length) {
    float[] x = new float[length];
    java.util.Arrays.fill(x, 1.5f);
    assertEquals(-1, kernels().firstNonFinite(MemorySegment.ofArray(x), length));
    if (length == 0) {
      return;
    }
    float[] bad = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
    for (int k = 0; k < bad.length; k++) {
      float[] y = x.clone();
      int first = (int) ((length - 1) * (k + 1L) / 4);
      y[first] = bad[k];
      y[length - 1] = Float.NaN;
      try (Arena arena = Arena.ofConfined()) {
        assertEquals(first, kernels().firstNonFinite(MemorySegment.ofArray(y), length));
        assertEquals(first, kernels().firstNonFinite(floats(arena, y), length));
        // Over threads: each range finds its own first, the smallest wins (confined: one range).
        for (int threads = 1; threads <= 3; threads++) {
          assertEquals(first, kernels().firstNonFinite(MemorySegment.ofArray(y), length, threads));
          assertEquals(first, kernels().firstNonFinite(floats(arena, y), length, threads));
        }
      }
    }
    // Only the first `length` floats count.
    float[] z = java.util.Arrays.copyOf(x, length + 1);
    z[length] = Float.NaN;
    assertEquals(-1, kernels().firstNonFinite(MemorySegment.ofArray(z), length));
    assertEquals(-1, kernels().firstNonFinite(MemorySegment.ofArray(z), length, 3));
  }

  @ParameterizedTest(name = "firstBeyond length {0}")
  @MethodSource("sumLengths")
  void firstBeyondFindsTheFirstElementAboveTheLimit(int length) {
    float[] x = new float[length];
    java.util.Arrays.fill(x, -1.5f);
    MemorySegment seg = MemorySegment.ofArray(x);
    assertEquals(-1, kernels().firstBeyond(seg, length, 1.5f), "a magnitude equal to the limit");
    assertEquals(length == 0 ? -1 : 0, kernels().firstBeyond(seg, length, Math.nextDown(1.5f)));
    if (length > 1) {
      int at = length / 2;
      x[at] = 2e19f;
      assertEquals(at, kernels().firstBeyond(seg, length, 0x1p63f));
      assertEquals(at, kernels().firstBeyond(seg, length, 0x1p63f, 3));
      assertEquals(-1, kernels().firstNonFinite(seg, length), "finite, so not non-finite");
      x[at] = -0.0f;
      java.util.Arrays.fill(x, 0, at, 0f);
      java.util.Arrays.fill(x, at + 1, length, 0f);
      // Zeros of either sign are within a limit of zero of either sign.
      assertEquals(-1, kernels().firstBeyond(seg, length, 0f));
      assertEquals(-1, kernels().firstBeyond(seg, length, -0.0f));
      x[length - 1] = Float.MIN_VALUE;
      assertEquals(length - 1, kernels().firstBeyond(seg, length, -0.0f));
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> kernels().firstBeyond(seg, length, Float.NaN));
    assertTrue(e.getMessage().contains("limit"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> kernels().firstBeyond(seg, length, -1f));
    assertThrows(IllegalArgumentException.class, () -> kernels().firstBeyond(seg, length, -1f, 2));
  }
}
