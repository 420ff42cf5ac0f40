package dev.lowbit.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.kernels.SimdTestCase.Fill;
import dev.lowbit.kernels.SimdTestCase.Gradient;
import dev.lowbit.kernels.SimdTestCase.Spec;
import dev.lowbit.quant.CodeBook;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link SimdKernels} against {@link ScalarKernels}, the reference: the same inputs, every output
 * byte compared. Covers every vector width, every state combination, lengths that hit every tail,
 * Adam/AdamW/L2/DJL-mode scalars with and without clipping, SGD (plain, Nesterov, first step),
 * heap and native segments, and 1 and 2 threads, every state and phase also in calls large
 * enough to be split ({@link #SPLIT_LENGTH}); block sizes from 32 to 4096 (larger than a tile),
 * blocks that become all zero, factorized matrices with zero statistics, wider than a chunk, or
 * split over threads inside a matrix.
 */
class SimdKernelsEqualityTest {

  private static final int[] LENGTHS = {1, 7, 127, 128, 129, 255, 256, 257, 4097};
  private static final int[] WIDTHS = {512, 256, 128};

  /**
   * SGD's lengths add 4096 + 1500: a last chunk of two tiles (1024 elements each), the second
   * partial, so a tile's length must be cut to what is left of its chunk.
   */
  private static final int[] SGD_LENGTHS = {1, 7, 127, 128, 129, 255, 256, 257, 4097, 5596};

  private static final List<Spec> M_SPECS =
      List.of(
          Spec.fp32(),
          Spec.blockwise(CodeBook.DYNAMIC_SIGNED_8, 256),
          Spec.blockwise(CodeBook.DE_SIGNED_4, 128),
          Spec.blockwise(CodeBook.DE1_SIGNED_4, 128));

  private static final List<Spec> V_SPECS =
      List.of(
          Spec.fp32(),
          Spec.blockwise(CodeBook.DYNAMIC_UNSIGNED_8, 256),
          Spec.blockwise(CodeBook.LINEAR_4, 128),
          Spec.rank1(CodeBook.LINEAR_4),
          Spec.rank1(CodeBook.DYNAMIC_UNSIGNED_8),
          Spec.factorized());

  /**
   * Elements of a call that really runs on two threads: {@code threads = 2} alone does not split a
   * call, since a range gets at least {@link KernelPool#MIN_CHUNKS_PER_TASK} chunks and a smaller
   * call stays on the caller's thread. Twice that many chunks' worth of elements splits every
   * phase: the chunk loops (the fused passes, sums of squares, the gradient check, the SIMD rank-1
   * maxima) by chunks; the reference's rank-1 maxima and both factorized statistics by rows or
   * columns of at least {@link KernelPool#MIN_ELEMENTS_PER_TASK} elements, which this many
   * elements hold twice whatever the shape (two rows and two columns or more). The 1235 more make
   * the second range end in a partial chunk, the last block partial at every block size from 32
   * to 4096, and the length odd (a 4-bit state has a padding nibble). KernelPoolTest checks that
   * this length is split.
   */
  static final int SPLIT_LENGTH = 2 * KernelPool.MIN_CHUNKS_PER_TASK * SquareSums.CHUNK + 1235;

  /** First moments (or SGD buffers) of the split cases: M_SPECS and blocks of 4096, 2048, 32. */
  private static final List<Spec> SPLIT_M_SPECS =
      Stream.concat(M_SPECS.stream(), Stream.of(
              Spec.blockwise(CodeBook.DYNAMIC_SIGNED_8, 4096),
              Spec.blockwise(CodeBook.DE1_SIGNED_4, 2048),
              Spec.blockwise(CodeBook.DE_SIGNED_4, 32)))
          .toList();

  /** Second moments of the split cases: V_SPECS and blocks of 2048, 4096, 32. */
  private static final List<Spec> SPLIT_V_SPECS =
      Stream.concat(V_SPECS.stream(), Stream.of(
              Spec.blockwise(CodeBook.DYNAMIC_UNSIGNED_8, 2048),
              Spec.blockwise(CodeBook.LINEAR_4, 4096),
              Spec.blockwise(CodeBook.LINEAR_4, 32)))
          .toList();

  /** AdamW, Adam with L2 and clipping, DJL's Adam (eps outside the correction), a rescale. */
  private static final List<AdamScalars> ADAM =
      List.of(
          new AdamScalars(0.9f, 0.999f, 1e-3f / 0.1f, 1f / (float) Math.sqrt(0.001f), 1e-8f,
              1e-3f * 1e-2f, 0f, 1f, 0f),
          new AdamScalars(0.9f, 0.99f, 2e-3f, 1.3f, 1e-6f, 0f, 1e-2f, 1f, 0.05f),
          new AdamScalars(0.8f, 0.95f, 1e-3f * (float) Math.sqrt(0.05f) / 0.2f, 1f, 1e-7f, 0f, 0f,
              0.5f, 0f));

  private static final List<SgdScalars> SGD =
      List.of(
          new SgdScalars(0.1f, 0.9f, false, 0f, 1f, 0f, false),
          new SgdScalars(0.05f, 0.9f, true, 1e-4f, 1f, 0.1f, false),
          new SgdScalars(0.1f, 0.8f, true, 0f, 2f, 0f, true),
          new SgdScalars(0.1f, 0.9f, false, 5e-4f, 1f, 0f, true));

  static Stream<Arguments> adamCases() {
    List<Arguments> out = new ArrayList<>();
    int variant = 0;
    for (int bits : WIDTHS) {
      for (Spec m : M_SPECS) {
        for (Spec v : V_SPECS) {
          for (int length : LENGTHS) {
            // Rotate scalars, segment kind and thread count over the cases, so that each appears
            // with every width, state pair and most lengths without a full cross product.
            out.add(
                Arguments.of(
                    bits, m, v, length, variant % ADAM.size(), (variant / 3) % 2 == 1,
                    1 + (variant / 2) % 2));
            variant++;
          }
        }
      }
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0} bits, m {1}, v {2}, n {3}, scalars {4}, native {5}, threads {6}")
  @MethodSource("adamCases")
  void adamWritesTheReferenceBytes(
      int bits, Spec m, Spec v, int length, int scalars, boolean nativeMemory, int threads) {
    runAdam(new SimdKernels(bits), m, v, length, ADAM.get(scalars), Fill.RANDOM, nativeMemory,
        threads, null);
  }

  static Stream<Arguments> clearCases() {
    List<Arguments> out = new ArrayList<>();
    for (Spec m : M_SPECS) {
      for (Spec v : V_SPECS) {
        out.add(Arguments.of(m, v));
      }
    }
    return out.stream();
  }

  /**
   * Clearing the gradient in the pass (as optimizer-core's {@code Optimizer.stepAndZero} asks): the
   * same bytes as the reference doing the same, on two threads ({@link #SPLIT_LENGTH}), so that
   * each thread clears its own chunks.
   */
  @ParameterizedTest(name = "m {0}, v {1}")
  @MethodSource("clearCases")
  void clearingTheGradientInThePassWritesTheReferenceBytes(Spec m, Spec v) {
    int length = SPLIT_LENGTH;
    long seed = 11L * m.seed() + v.seed();
    try (Arena arena = Arena.ofShared()) {
      SimdTestCase expected = SimdTestCase.build(length, m, v, Fill.RANDOM, seed, arena, null);
      SimdTestCase actual = SimdTestCase.build(length, m, v, Fill.RANDOM, seed, arena, null);
      new ScalarKernels().adam(ADAM.getFirst(), expected.param, expected.grad, length, expected.m,
          expected.v, 2, expected.grad);
      new SimdKernels().adam(ADAM.getFirst(), actual.param, actual.grad, length, actual.m,
          actual.v, 2, actual.grad);
      actual.assertSameBytes(expected, "adam clearing m " + m + " / v " + v, Gradient.CLEARED);
    }
    try (Arena arena = Arena.ofShared()) {
      SimdTestCase expected = SimdTestCase.build(length, m, null, Fill.RANDOM, seed, arena, null);
      SimdTestCase actual = SimdTestCase.build(length, m, null, Fill.RANDOM, seed, arena, null);
      new ScalarKernels().sgd(SGD.get(1), expected.param, expected.grad, length, expected.m, 2,
          expected.grad);
      new SimdKernels().sgd(SGD.get(1), actual.param, actual.grad, length, actual.m, 2,
          actual.grad);
      actual.assertSameBytes(expected, "sgd clearing buffer " + m, Gradient.CLEARED);
    }
  }

  static Stream<Arguments> boundaryCases() {
    List<Arguments> out = new ArrayList<>();
    for (int bits : WIDTHS) {
      for (Spec m : M_SPECS.subList(1, M_SPECS.size())) {
        for (int length : new int[] {257, 4097}) {
          out.add(Arguments.of(bits, m, length));
        }
      }
    }
    return out.stream();
  }

  /**
   * With {@code beta1 = 0} the new m equals the gradient, which is built so that m / scale hits
   * midpoints exactly, their float neighbours, the smallest codes, signed zeros and all-zero
   * blocks; SGD's first step does the same for its buffer.
   */
  @ParameterizedTest(name = "{0} bits, {1}, n {2}")
  @MethodSource("boundaryCases")
  void boundaryValuesEncodeLikeTheReference(int bits, Spec m, int length) {
    AdamScalars exactM = new AdamScalars(0f, 0.999f, 1e-3f, 1f, 1e-8f, 0f, 0f, 1f, 0f);
    for (Spec v : V_SPECS) {
      runAdam(new SimdKernels(bits), m, v, length, exactM, Fill.BOUNDARY, false, 1, m.book());
    }
    for (SgdScalars s : SGD.subList(2, 4)) {
      runSgd(new SimdKernels(bits), m, length, s, Fill.BOUNDARY, true, 2, m.book());
    }
  }

  /** Squared gradients that overflow: infinite v, infinite scales, NaN quotients. */
  @ParameterizedTest(name = "{0} bits")
  @ValueSource(ints = {512, 256, 128})
  void overflowingMomentsEncodeLikeTheReference(int bits) {
    for (Spec v : V_SPECS) {
      for (Spec m : M_SPECS) {
        runAdam(new SimdKernels(bits), m, v, 1000, ADAM.get(0), Fill.OVERFLOW, false, 1, null);
      }
    }
  }

  static Stream<Arguments> sgdCases() {
    List<Arguments> out = new ArrayList<>();
    int variant = 0;
    for (int bits : WIDTHS) {
      for (Spec b : M_SPECS) {
        for (int length : SGD_LENGTHS) {
          out.add(Arguments.of(bits, b, length, variant % SGD.size(), variant % 2 == 1,
              1 + (variant / 2) % 2));
          variant++;
        }
      }
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0} bits, buffer {1}, n {2}, scalars {3}, native {4}, threads {5}")
  @MethodSource("sgdCases")
  void sgdWritesTheReferenceBytes(
      int bits, Spec buffer, int length, int scalars, boolean nativeMemory, int threads) {
    runSgd(new SimdKernels(bits), buffer, length, SGD.get(scalars), Fill.RANDOM, nativeMemory,
        threads, null);
  }

  /** A tensor of a million-odd elements: many chunks, real thread splits, native width only. */
  @ParameterizedTest(name = "m {1}, v {0}, native {2}")
  @MethodSource("largeCases")
  void largeTensorAtTheNativeWidth(Spec v, Spec m, boolean nativeMemory, int scalars) {
    int length = 1_000_003;
    runAdam(new SimdKernels(), m, v, length, ADAM.get(scalars), Fill.RANDOM, nativeMemory, 2, null);
  }

  static Stream<Arguments> largeCases() {
    return Stream.of(
        Arguments.of(Spec.fp32(), Spec.fp32(), true, 0),
        Arguments.of(Spec.blockwise(CodeBook.DYNAMIC_UNSIGNED_8, 256),
            Spec.blockwise(CodeBook.DYNAMIC_SIGNED_8, 256), false, 1),
        Arguments.of(Spec.rank1(CodeBook.LINEAR_4), Spec.blockwise(CodeBook.DE1_SIGNED_4, 128),
            true, 2),
        Arguments.of(Spec.factorized(), Spec.blockwise(CodeBook.DE_SIGNED_4, 128), false, 0));
  }

  static Stream<Arguments> splitAdamCases() {
    List<Arguments> out = new ArrayList<>();
    int variant = 0;
    for (Spec v : SPLIT_V_SPECS) {
      // Three first moments per second moment, taken in turn: every format of each appears with
      // several of the other (the clearing test crosses M_SPECS with V_SPECS at this length).
      for (int k = 0; k < 3; k++) {
        Spec m = SPLIT_M_SPECS.get(variant % SPLIT_M_SPECS.size());
        // Width and memory rotate over the pairs, the scalars over the second moments.
        out.add(Arguments.of(WIDTHS[variant % WIDTHS.length], m, v, (variant / 3) % ADAM.size(),
            variant % 2 == 1));
        variant++;
      }
    }
    return out.stream();
  }

  /**
   * Every moment format (block sizes from 32 to 4096, rank-1 and factorized) in a call that two
   * threads split ({@link #SPLIT_LENGTH}); the rank-1 and factorized moments see it as a matrix
   * of at least two rows and columns (as SimdTestCase shapes it), so their row and column phases
   * split too.
   */
  @ParameterizedTest(name = "{0} bits, m {1}, v {2}, scalars {3}, native {4}")
  @MethodSource("splitAdamCases")
  void adamSplitOverTwoThreadsWritesTheReferenceBytes(
      int bits, Spec m, Spec v, int scalars, boolean nativeMemory) {
    runAdam(new SimdKernels(bits), m, v, SPLIT_LENGTH, ADAM.get(scalars), Fill.RANDOM,
        nativeMemory, 2, null);
  }

  static Stream<Arguments> splitSgdCases() {
    List<Arguments> out = new ArrayList<>();
    int variant = 0;
    for (Spec b : SPLIT_M_SPECS) {
      for (int scalars = 0; scalars < SGD.size(); scalars++) {
        out.add(Arguments.of(WIDTHS[variant % WIDTHS.length], b, scalars, variant % 2 == 1));
        variant++;
      }
    }
    return out.stream();
  }

  /**
   * Every SGD buffer format with every SGD variant (plain, Nesterov, first step) in a call that
   * two threads split ({@link #SPLIT_LENGTH}).
   */
  @ParameterizedTest(name = "{0} bits, buffer {1}, scalars {2}, native {3}")
  @MethodSource("splitSgdCases")
  void sgdSplitOverTwoThreadsWritesTheReferenceBytes(
      int bits, Spec buffer, int scalars, boolean nativeMemory) {
    runSgd(new SimdKernels(bits), buffer, SPLIT_LENGTH, SGD.get(scalars), Fill.RANDOM,
        nativeMemory, 2, null);
  }

  @ParameterizedTest(name = "{0} bits")
  @ValueSource(ints = {512, 256, 128})
  void sumOfSquaresAndFirstNonFiniteMatchTheReference(int bits) {
    SimdKernels simd = new SimdKernels(bits);
    ScalarKernels scalar = new ScalarKernels();
    SplittableRandom random = new SplittableRandom(bits);
    for (int length :
        new int[] {0, 1, 7, 15, 16, 17, 4095, 4096, 4097, 3 * 4096 + 33, SPLIT_LENGTH, 100_003}) {
      float[] x = new float[length];
      for (int i = 0; i < length; i++) {
        x[i] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(-5, 5)));
      }
      MemorySegment seg = MemorySegment.ofArray(x);
      for (int threads = 1; threads <= 2; threads++) {
        assertEquals(
            Double.doubleToRawLongBits(scalar.sumOfSquares(seg, length, threads)),
            Double.doubleToRawLongBits(simd.sumOfSquares(seg, length, threads)),
            "sumOfSquares, n " + length + ", threads " + threads);
      }
      assertEquals(-1, simd.firstNonFinite(seg, length));
      if (length > 0) {
        for (float bad :
            new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
          int at = random.nextInt(length);
          float keep = x[at];
          x[at] = bad;
          assertEquals(scalar.firstNonFinite(seg, length), simd.firstNonFinite(seg, length));
          assertEquals(at, simd.firstNonFinite(seg, length));
          x[at] = keep;
        }
        // The limit check: limits at, just below and just above values of the data, and the ends.
        for (int trial = 0; trial < 8; trial++) {
          float v = Math.abs(x[random.nextInt(length)]);
          for (float limit : new float[] {v, Math.nextDown(v), Math.nextUp(v), 0f, -0.0f,
              Float.MIN_VALUE, Float.MAX_VALUE, Float.POSITIVE_INFINITY}) {
            if (!(limit >= 0f)) {
              continue;
            }
            assertEquals(
                scalar.firstBeyond(seg, length, limit), simd.firstBeyond(seg, length, limit),
                "firstBeyond, n " + length + ", limit " + limit);
          }
        }
      }
    }
  }

  /**
   * The gradient check split over two threads ({@link #SPLIT_LENGTH}): each thread scans its own
   * chunks with the implementation's check and the smallest index found wins. Bad values only in
   * the second thread's range (at the very end, in the partial chunk), in both ranges, and at the
   * first element; NaN and infinities for firstNonFinite, values just above a limit for
   * firstBeyond.
   */
  @ParameterizedTest(name = "{0} bits")
  @ValueSource(ints = {512, 256, 128})
  void theGradientCheckSplitOverTwoThreadsFindsTheFirstBadElement(int bits) {
    SimdKernels simd = new SimdKernels(bits);
    ScalarKernels scalar = new ScalarKernels();
    SplittableRandom random = new SplittableRandom(bits);
    float limit = 1f;
    float[] x = new float[SPLIT_LENGTH];
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) (random.nextGaussian() * 0.1);
    }
    MemorySegment seg = MemorySegment.ofArray(x);
    int secondRange = KernelPool.MIN_CHUNKS_PER_TASK * SquareSums.CHUNK;
    int[][] badSets = {
        {}, {SPLIT_LENGTH - 1}, {secondRange + 5, 1000}, {0, secondRange, SPLIT_LENGTH - 1}};
    float[] badValues = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
    for (int[] bad : badSets) {
      long first = bad.length == 0 ? -1 : java.util.Arrays.stream(bad).min().getAsInt();
      float[] keep = new float[bad.length];
      for (int k = 0; k < bad.length; k++) {
        keep[k] = x[bad[k]];
        x[bad[k]] = badValues[k % badValues.length];
      }
      for (int threads = 1; threads <= 2; threads++) {
        String label = "bad at " + java.util.Arrays.toString(bad) + ", threads " + threads;
        assertEquals(first, scalar.firstNonFinite(seg, SPLIT_LENGTH, threads), label);
        assertEquals(first, simd.firstNonFinite(seg, SPLIT_LENGTH, threads), label);
      }
      for (int k = 0; k < bad.length; k++) {
        x[bad[k]] = Math.nextUp(limit) * (k % 2 == 0 ? 1 : -1); // beyond the limit, finite
      }
      for (int threads = 1; threads <= 2; threads++) {
        String label = "beyond at " + java.util.Arrays.toString(bad) + ", threads " + threads;
        assertEquals(first, scalar.firstBeyond(seg, SPLIT_LENGTH, limit, threads), label);
        assertEquals(first, simd.firstBeyond(seg, SPLIT_LENGTH, limit, threads), label);
      }
      for (int k = 0; k < bad.length; k++) {
        x[bad[k]] = keep[k];
      }
    }
  }

  @ParameterizedTest(name = "{0} bits")
  @ValueSource(ints = {512, 256, 128})
  void aThreadCountBelowOneIsRefusedAsByTheReference(int bits) {
    SimdKernels simd = new SimdKernels(bits);
    for (int length : new int[] {0, 5000}) {
      MemorySegment p = MemorySegment.ofArray(new float[length]);
      MemorySegment g = MemorySegment.ofArray(new float[length]);
      Fp32Moment m = new Fp32Moment(MemorySegment.ofArray(new float[length]));
      Fp32Moment v = new Fp32Moment(MemorySegment.ofArray(new float[length]));
      SgdScalars sgd = new SgdScalars(0.1f, 0.9f, false, 0f, 1f, 0f, false);
      List<org.junit.jupiter.api.function.Executable> calls = List.of(
          () -> simd.adam(ADAM.get(0), p, g, length, m, v, 0),
          () -> simd.sgd(sgd, p, g, length, m, 0),
          () -> simd.sumOfSquares(g, length, 0),
          () -> simd.firstBeyond(g, length, 1f, 0));
      for (org.junit.jupiter.api.function.Executable call : calls) {
        assertEquals("threads must be >= 1, got 0",
            org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, call)
                .getMessage(), "length " + length);
      }
    }
  }

  static Stream<Arguments> rankThreeCases() {
    // The last case is split over two threads: at least SPLIT_LENGTH elements in 24 rows.
    return Stream.of(Arguments.of(512, 1, 300), Arguments.of(512, 2, 300),
        Arguments.of(256, 1, 300), Arguments.of(128, 2, 300),
        Arguments.of(256, 2, SPLIT_LENGTH / 24 + 1));
  }

  /**
   * A rank-1 second moment of a rank-3 tensor (4 x 6 x cols): the SIMD kernels write the scalar
   * reference's codes and scales, the row scales are the min over the leading dimensions of their
   * max vectors, and never below a row's own new maximum.
   */
  @ParameterizedTest(name = "{0} bits, threads {1}, 4 x 6 x {2}")
  @MethodSource("rankThreeCases")
  void aRankThreeRankOneMomentEncodesLikeTheReference(int bits, int threads, int cols) {
    long[] dims = {4, 6};
    int rows = 24;
    int n = rows * cols;
    SplittableRandom random = new SplittableRandom(bits + threads + cols);
    float[] param = new float[n];
    float[] grad = new float[n];
    byte[] codes = new byte[n / 2];
    float[] rowScales = new float[rows];
    float[] colScales = new float[cols];
    for (int i = 0; i < n; i++) {
      param[i] = (float) random.nextGaussian();
      grad[i] = (float) (random.nextGaussian() * Math.exp(2 * random.nextGaussian()) * 1e-2);
    }
    random.nextBytes(codes);
    for (int r = 0; r < rows; r++) {
      rowScales[r] = (float) (random.nextDouble() * 1e-4);
    }
    for (int c = 0; c < cols; c++) {
      colScales[c] = (float) (random.nextDouble() * 1e-4);
    }
    Rank1Moment[] v = new Rank1Moment[2];
    float[][] p = new float[2][];
    for (int k = 0; k < 2; k++) {
      p[k] = param.clone();
      v[k] = new Rank1Moment(CodeBook.LINEAR_4, rows, cols, MemorySegment.ofArray(codes.clone()),
          MemorySegment.ofArray(rowScales.clone()), MemorySegment.ofArray(colScales.clone()), dims);
    }
    Fp32Moment[] m = {new Fp32Moment(MemorySegment.ofArray(new float[n])),
        new Fp32Moment(MemorySegment.ofArray(new float[n]))};
    AdamScalars s = ADAM.get(0);
    new ScalarKernels().adam(s, MemorySegment.ofArray(p[0]), MemorySegment.ofArray(grad), n,
        m[0], v[0], threads);
    new SimdKernels(bits).adam(s, MemorySegment.ofArray(p[1]), MemorySegment.ofArray(grad), n,
        m[1], v[1], threads);
    assertArrayEquals(p[0], p[1]);
    assertArrayEquals(v[0].codes().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
        v[1].codes().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
    float[] rowsOut = v[1].rowScales().toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT);
    assertArrayEquals(v[0].rowScales().toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT), rowsOut);
    assertArrayEquals(v[0].colScales().toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT),
        v[1].colScales().toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT));
    // The row scales follow the rule: min over the leading dims of their max vectors.
    float[] max0 = new float[4];
    float[] max1 = new float[6];
    float[] rowMax = new float[rows];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        int i = r * cols + c;
        float old = CodeBook.LINEAR_4.value(
            (codes[i / 2] >>> (4 * (i % 2))) & 0xf) * Math.min(rowScales[r], colScales[c]);
        float g = ScalarKernels.adamGrad(s, grad[i], param[i]);
        rowMax[r] = Math.max(rowMax[r],
            Math.abs(ScalarKernels.secondMoment(s.beta2(), 1f - s.beta2(), old, g)));
      }
      max0[r / 6] = Math.max(max0[r / 6], rowMax[r]);
      max1[r % 6] = Math.max(max1[r % 6], rowMax[r]);
    }
    for (int r = 0; r < rows; r++) {
      assertEquals(Math.min(max0[r / 6], max1[r % 6]), rowsOut[r], "row " + r);
      assertTrue(rowsOut[r] >= rowMax[r], "row " + r);
    }
  }

  /**
   * Block sizes other than the 128 and 256 above: 2048 and 4096 are larger than the smallest
   * tile (1024 elements), so a tile must grow to hold whole blocks; 32 puts many blocks in a
   * tile. The last block is partial (the length is odd).
   */
  @ParameterizedTest(name = "{0} bits")
  @ValueSource(ints = {512, 128})
  void blockSizesFrom32To4096EncodeLikeTheReference(int bits) {
    int length = 2 * SquareSums.CHUNK + 2048 + 37;
    List<Spec> ms = List.of(Spec.blockwise(CodeBook.DYNAMIC_SIGNED_8, 4096),
        Spec.blockwise(CodeBook.DE1_SIGNED_4, 2048), Spec.blockwise(CodeBook.DE_SIGNED_4, 32));
    List<Spec> vs = List.of(Spec.fp32(), Spec.blockwise(CodeBook.LINEAR_4, 4096),
        Spec.blockwise(CodeBook.DYNAMIC_UNSIGNED_8, 2048), Spec.blockwise(CodeBook.LINEAR_4, 32),
        Spec.rank1(CodeBook.LINEAR_4));
    for (Spec m : ms) {
      for (Spec v : vs) {
        runAdam(new SimdKernels(bits), m, v, length, ADAM.get(1), Fill.RANDOM, false, 1, null);
      }
      runSgd(new SimdKernels(bits), m, length, SGD.get(1), Fill.RANDOM, false, 1, null);
    }
    // An fp32 m next to a large-block v: the tile follows v alone.
    runAdam(new SimdKernels(bits), Spec.fp32(), Spec.blockwise(CodeBook.LINEAR_4, 4096), length,
        ADAM.get(0), Fill.RANDOM, false, 1, null);
  }

  /**
   * A factorized second moment with one matrix whose statistics are all zero and whose gradient
   * is zero (a matrix of the batch that got no gradient yet): its mean row statistic is 0 and
   * its v is 0 by definition (FactorizedStats.value), not 0 / 0. The other matrix steps as usual.
   */
  @ParameterizedTest(name = "{0} bits")
  @ValueSource(ints = {512, 256, 128})
  void aFactorizedMatrixWithZeroStatisticsStepsLikeTheReference(int bits) {
    long batch = 2;
    long rows = 3;
    long cols = 40;
    SimdTestCase expected = matrixCase(batch, rows, cols, Spec.factorized(), bits, null);
    SimdTestCase actual = matrixCase(batch, rows, cols, Spec.factorized(), bits, null);
    for (SimdTestCase c : List.of(expected, actual)) {
      c.grad.asSlice(0, rows * cols * Float.BYTES).fill((byte) 0);
      c.vSegments[0].asSlice(0, rows * Float.BYTES).fill((byte) 0); // row statistics
      c.vSegments[1].asSlice(0, cols * Float.BYTES).fill((byte) 0); // column statistics
    }
    new ScalarKernels().adam(ADAM.get(0), expected.param, expected.grad, expected.length,
        expected.m, expected.v, 1);
    new SimdKernels(bits).adam(ADAM.get(0), actual.param, actual.grad, actual.length, actual.m,
        actual.v, 1);
    actual.assertSameBytes(
        expected, bits + " bits, factorized with a zero matrix", Gradient.UNTOUCHED);
    assertEquals(0f, actual.vSegments[0].getAtIndex(Codes.FLOAT, 0), "row statistic stays 0");
    for (long i = 0; i < actual.length; i++) {
      assertTrue(Float.isFinite(actual.param.getAtIndex(Codes.FLOAT, i)), "parameter " + i);
    }
  }

  static Stream<Arguments> matrixShapeCases() {
    List<Arguments> out = new ArrayList<>(List.of(
        Arguments.of(2L, 2L, 4133L, Spec.factorized(), 512, 1),
        Arguments.of(2L, 2L, 4133L, Spec.factorized(), 128, 1),
        Arguments.of(3L, 128L, 200L, Spec.factorized(), 512, 2)));
    // Split over two threads: at least SPLIT_LENGTH elements, rows wider than a chunk, or three
    // matrices of 129 columns.
    long wide = SquareSums.CHUNK + 37;
    long[][] splitShapes = {
        {1, SPLIT_LENGTH / wide + 1, wide}, {3, SPLIT_LENGTH / (3 * 129) + 1, 129}};
    List<Spec> vs = List.of(Spec.factorized(), Spec.rank1(CodeBook.LINEAR_4),
        Spec.rank1(CodeBook.DYNAMIC_UNSIGNED_8));
    int variant = 0;
    for (long[] shape : splitShapes) {
      for (Spec v : vs) {
        int bits = WIDTHS[variant++ % WIDTHS.length];
        out.add(Arguments.of(shape[0], shape[1], shape[2], v, bits, 2));
      }
    }
    return out.stream();
  }

  /**
   * Rank-1 and factorized second moments of shapes that cut rows and columns: rows wider than a
   * chunk (4133 columns: a factorized row is summed in two chunks, columns in groups of at most a
   * chunk; SIMD rank-1 maxima split by chunks meet inside a row), and batches whose row and column
   * ranges are split over two threads in the middle of a matrix (3 x 128 x 200: the columns split
   * at 300, in the second matrix; 3 x 173 x 129: rows at 259 and columns at 193, both in the
   * second matrix). A rank-1 moment sees {@code batch * rows} rows.
   */
  @ParameterizedTest(name = "{0}x{1}x{2}, v {3}, {4} bits, threads {5}")
  @MethodSource("matrixShapeCases")
  void matrixMomentShapesThatCutRowsAndColumnsMatchTheReference(
      long batch, long rows, long cols, Spec v, int bits, int threads) {
    SimdTestCase expected = matrixCase(batch, rows, cols, v, bits, null);
    SimdTestCase actual = matrixCase(batch, rows, cols, v, bits, null);
    new ScalarKernels().adam(ADAM.get(1), expected.param, expected.grad, expected.length,
        expected.m, expected.v, threads);
    new SimdKernels(bits).adam(ADAM.get(1), actual.param, actual.grad, actual.length, actual.m,
        actual.v, threads);
    actual.assertSameBytes(expected,
        bits + " bits, " + v + " " + batch + "x" + rows + "x" + cols, Gradient.UNTOUCHED);
  }

  /** An fp32 first moment and a second moment {@code v} of a {@code batch x rows x cols} shape. */
  private static SimdTestCase matrixCase(
      long batch, long rows, long cols, Spec v, int bits, Arena arena) {
    return SimdTestCase.build(batch, rows, cols, Spec.fp32(), v, Fill.RANDOM,
        batch * 1_000_003L + rows * 1009L + cols + bits, arena, null);
  }

  /**
   * A block whose new values are all zero (beta1 = 0 or SGD's first step, and a zero gradient
   * there) gets scale 0 and every code encode(0), whatever codes it held before; clearing the
   * gradient in the pass clears that block too (its -0.0 become +0.0), as the reference does.
   */
  @ParameterizedTest(name = "{0} bits")
  @ValueSource(ints = {512, 256, 128})
  void aBlockThatBecomesZeroIsEncodedAsZeroAndCleared(int bits) {
    AdamScalars exactM = new AdamScalars(0f, 0.999f, 1e-3f, 1f, 1e-8f, 0f, 0f, 1f, 0f);
    int length = 1000;
    for (Spec m : M_SPECS.subList(1, M_SPECS.size())) {
      for (boolean sgd : new boolean[] {false, true}) {
        SimdTestCase expected = zeroBlockCase(length, m);
        SimdTestCase actual = zeroBlockCase(length, m);
        if (sgd) {
          new ScalarKernels().sgd(SGD.get(2), expected.param, expected.grad, length, expected.m, 1,
              expected.grad);
          new SimdKernels(bits).sgd(SGD.get(2), actual.param, actual.grad, length, actual.m, 1,
              actual.grad);
        } else {
          new ScalarKernels().adam(exactM, expected.param, expected.grad, length, expected.m,
              expected.v, 1, expected.grad);
          new SimdKernels(bits).adam(exactM, actual.param, actual.grad, length, actual.m, actual.v,
              1, actual.grad);
        }
        String label = bits + " bits, " + (sgd ? "sgd" : "adam") + " " + m;
        actual.assertSameBytes(expected, label, Gradient.CLEARED);
      }
    }
  }

  /** Random state (old codes not encode(0)), the gradient +-0 over elements [256, 512). */
  private static SimdTestCase zeroBlockCase(int length, Spec m) {
    SimdTestCase c =
        SimdTestCase.build(length, m, Spec.fp32(), Fill.RANDOM, 77L + m.seed(), null, null);
    int zero = m.book().encode(0f);
    boolean stale = false;
    for (long i = 256; i < 512; i++) {
      c.grad.setAtIndex(Codes.FLOAT, i, (i & 1) == 0 ? 0f : -0f);
      stale |= Codes.read(((BlockwiseMoment) c.m).codes(), m.book().bits(), i) != zero;
    }
    assertTrue(stale, "the old codes of the zero block must not all be encode(0) already");
    return c;
  }

  @Test
  void namesItsWidth() {
    assertEquals("simd-256", new SimdKernels(256).name());
  }

  private static void runAdam(
      SimdKernels simd, Spec m, Spec v, int length, AdamScalars s, Fill fill, boolean nativeMemory,
      int threads, CodeBook boundaryBook) {
    long seed = 31L * length + m.seed() * 7L + v.seed();
    try (Arena arena = Arena.ofShared()) {
      Arena where = nativeMemory ? arena : null;
      SimdTestCase expected = SimdTestCase.build(length, m, v, fill, seed, where, boundaryBook);
      SimdTestCase actual = SimdTestCase.build(length, m, v, fill, seed, where, boundaryBook);
      actual.assertSameBytes(expected, "inputs", Gradient.UNTOUCHED);
      new ScalarKernels()
          .adam(s, expected.param, expected.grad, length, expected.m, expected.v, threads);
      simd.adam(s, actual.param, actual.grad, length, actual.m, actual.v, threads);
      actual.assertSameBytes(expected, simd.name() + " adam " + m + " / " + v + " n " + length,
          Gradient.UNTOUCHED);
    }
  }

  private static void runSgd(
      SimdKernels simd, Spec b, int length, SgdScalars s, Fill fill, boolean nativeMemory,
      int threads, CodeBook boundaryBook) {
    long seed = 17L * length + b.seed();
    try (Arena arena = Arena.ofShared()) {
      Arena where = nativeMemory ? arena : null;
      SimdTestCase expected = SimdTestCase.build(length, b, null, fill, seed, where, boundaryBook);
      SimdTestCase actual = SimdTestCase.build(length, b, null, fill, seed, where, boundaryBook);
      new ScalarKernels().sgd(s, expected.param, expected.grad, length, expected.m, threads);
      simd.sgd(s, actual.param, actual.grad, length, actual.m, threads);
      actual.assertSameBytes(expected, simd.name() + " sgd " + b + " n " + length + " " + s,
          Gradient.UNTOUCHED);
    }
  }
}
