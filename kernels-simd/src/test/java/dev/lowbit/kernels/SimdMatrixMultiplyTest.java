package dev.lowbit.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link SimdMatrixMultiply} against {@link MatrixMultiply}, the reference: every output float
 * compared bit for bit ({@link Float#floatToIntBits}, so -0 differs from +0; NaNs compare equal
 * whatever their payload), at every vector width, on sizes that hit every path: the 4-row x
 * 4-vector panels, the single-row remainder, single-vector columns and the scalar column tail.
 */
class SimdMatrixMultiplyTest {

  private static final int[] WIDTHS = {512, 256, 128};

  /** n, k, m. At 512 bits a panel is 64 columns, so 83 = 64 + 16 + 3 hits all three j paths. */
  private static final int[][] SIZES = {
    {1, 1, 1}, {7, 13, 5}, {17, 33, 129}, {64, 64, 64}, {100, 1200, 37}, {5, 70, 83},
    {9, 3, 150}, {4, 1, 64}, {3, 0, 20}, {0, 5, 7}, {6, 257, 17}, {33, 48, 200}
  };

  static Stream<Arguments> cases() {
    List<Arguments> list = new ArrayList<>();
    for (int bits : WIDTHS) {
      for (int[] size : SIZES) {
        list.add(Arguments.of(bits, size[0], size[1], size[2]));
      }
    }
    return list.stream();
  }

  @ParameterizedTest(name = "{0} bits, {1}x{2}x{3}")
  @MethodSource("cases")
  void sameBitsAsTheScalarReference(int bits, int n, int k, int m) {
    Product p = Product.random(bits + n * 1_000_003L + k * 1009L + m, n, k, m);
    float[] actual = new float[n * m];
    java.util.Arrays.fill(actual, Float.NaN); // every element must be written
    new SimdMatrixMultiply(bits).multiply(p.a(), p.b(), actual, n, k, m);
    assertSameBits(p.expected(), actual, bits + " bits, " + n + "x" + k + "x" + m);
  }

  /** Infinities and NaN propagate alike (inf - inf = NaN, 0 * inf = NaN). */
  @ParameterizedTest(name = "{0} bits")
  @MethodSource("widths")
  void specialValuesPropagateAlike(int bits) {
    SplittableRandom random = new SplittableRandom(bits);
    int n = 9;
    int k = 20;
    int m = 90;
    float[] a = fill(n * k, random);
    float[] b = fill(k * m, random);
    a[3] = Float.POSITIVE_INFINITY;
    a[k + 5] = Float.NaN;
    a[2 * k + 7] = 0f;
    b[7 * m + 40] = Float.NEGATIVE_INFINITY;
    b[3 * m + 11] = Float.NEGATIVE_INFINITY;
    b[12 * m + 70] = 3e38f;
    Product p = Product.of(a, b, n, k, m);
    float[] actual = new float[n * m];
    new SimdMatrixMultiply(bits).multiply(p.a(), p.b(), actual, n, k, m);
    assertSameBits(p.expected(), actual, bits + " bits, special values");
  }

  static Stream<Integer> widths() {
    return Stream.of(512, 256, 128);
  }

  /**
   * The facade: the same bits as the reference for 1, 2 and 3 threads. The rows are sized from
   * {@link MatrixKernels#MIN_FMAS_PER_TASK}, so that 2 and 3 threads split them (unevenly: 2 rows
   * more than 3 whole ranges), whatever the constant; theFacadeSplitsRowsByMultiplyAdds checks
   * that such a call is split.
   */
  @Test
  void facadeResultDoesNotDependOnThreads() {
    int k = 150;
    int m = 131;
    int n = 3 * minRows(k, m) + 2;
    Product p = Product.random(5, n, k, m);
    for (int threads = 1; threads <= 3; threads++) {
      float[] actual = new float[n * m];
      MatrixKernels.multiply(p.a(), p.b(), actual, n, k, m, threads);
      assertSameBits(p.expected(), actual, threads + " threads");
    }
    float[] actual = new float[n * m];
    MatrixKernels.multiply(p.a(), p.b(), actual, n, k, m);
    assertSameBits(p.expected(), actual, "the caller's thread");
  }

  /**
   * The facade hands a thread a range of rows only if the range holds at least
   * {@link MatrixKernels#MIN_FMAS_PER_TASK} multiply-adds: {@code 2 * minRows - 1} rows stay
   * whole on the caller's thread, {@code 2 * minRows} are two ranges, and
   * {@code 3 * minRows + 2} rows on 3 threads are three, the first on the caller's thread and the
   * others on workers. Every row is in exactly one range.
   */
  @Test
  void theFacadeSplitsRowsByMultiplyAdds() {
    int k = 150;
    int m = 131;
    int minRows = minRows(k, m);
    Thread caller = Thread.currentThread();
    List<Range> one = ranges(2 * minRows - 1, k, m, 3);
    assertEquals(List.of(new Range(0, 2 * minRows - 1, caller)), one);
    assertEquals(2, ranges(2 * minRows, k, m, 3).size());
    int n = 3 * minRows + 2;
    List<Range> three = ranges(n, k, m, 3);
    assertEquals(3, three.size(), three.toString());
    assertEquals(0, three.getFirst().from());
    assertEquals(n, three.getLast().to());
    for (int r = 0; r < three.size(); r++) {
      Range range = three.get(r);
      assertTrue(range.to() - range.from() >= minRows, three.toString());
      assertEquals(r == 0, range.thread() == caller, three.toString());
      if (r > 0) {
        assertEquals(three.get(r - 1).to(), range.from(), three.toString());
      }
    }
  }

  /** Rows of a {@code k x m} product in a range the facade hands to a thread, at the least. */
  private static int minRows(int k, int m) {
    return Math.toIntExact(
        Math.max(1L, MatrixKernels.MIN_FMAS_PER_TASK / Math.max(1L, (long) k * m)));
  }

  /** One range of rows the facade gave a product, and the thread that computed it. */
  private record Range(int from, int to, Thread thread) {}

  /** The ranges (by first row) of an n x k x m product split by the facade over threads. */
  private static List<Range> ranges(int n, int k, int m, int threads) {
    List<Range> ranges = Collections.synchronizedList(new ArrayList<>());
    MatrixProduct recording = new MatrixProduct() {
      @Override
      public void multiplyRows(
          float[] a, float[] b, float[] c, int k, int m, int rowFrom, int rowTo) {
        ranges.add(new Range(rowFrom, rowTo, Thread.currentThread()));
      }

      @Override
      public String name() {
        return "recording";
      }
    };
    MatrixKernels.multiplyRows(recording, null, null, null, n, k, m, threads);
    return ranges.stream().sorted(Comparator.comparingInt(Range::from)).toList();
  }

  /**
   * The facade and the SIMD product check their arguments as the reference does, before any
   * work: a C that is A or B (which would be computed in place) and an array too short are
   * refused with IllegalArgumentException.
   */
  @Test
  void theFacadeAndTheSimdProductRefuseWhatTheReferenceRefuses() {
    float[] a = new float[6];
    float[] b = new float[6];
    float[] c = new float[4];
    List<org.junit.jupiter.api.function.Executable> calls = new ArrayList<>(List.of(
        () -> MatrixKernels.multiply(a, b, a, 2, 3, 2, 2),
        () -> MatrixKernels.multiply(a, b, b, 2, 3, 2),
        () -> MatrixKernels.multiply(a, b, new float[3], 2, 3, 2, 1),
        () -> MatrixKernels.multiply(a, new float[5], c, 2, 3, 2, 1)));
    for (int bits : WIDTHS) {
      calls.add(() -> new SimdMatrixMultiply(bits).multiply(a, b, a, 2, 3, 2));
      calls.add(() -> new SimdMatrixMultiply(bits).multiply(a, b, new float[3], 2, 3, 2));
    }
    for (org.junit.jupiter.api.function.Executable call : calls) {
      assertThrows(IllegalArgumentException.class, call);
    }
  }

  /**
   * The facade's selection rule, run afresh (the facade itself chose once): scalar optimizer
   * kernels give the scalar product, any other the Vector API product at the default width;
   * one INFO line each. Both compute a range of rows with the reference's bits and leave the
   * other rows alone.
   */
  @Test
  void theFacadeChoosesTheProductOfTheOptimizerKernels() {
    KernelsTest.RecordingLogger log = new KernelsTest.RecordingLogger();
    MatrixProduct scalar = MatrixKernels.choose(Kernels.scalar(), log);
    MatrixProduct simd = MatrixKernels.choose(Kernels.simd().orElseThrow(), log);
    assertEquals("scalar", scalar.name());
    assertEquals(new SimdMatrixMultiply().name(), simd.name());
    assertEquals(List.of("INFO matrix kernels: scalar (as the optimizer kernels)",
        "INFO matrix kernels: " + simd.name() + " (Vector API)"), log.lines);
    int n = 7;
    int k = 13;
    int m = 70;
    Product p = Product.random(11, n, k, m);
    for (MatrixProduct product : List.of(scalar, simd)) {
      float[] actual = new float[n * m];
      java.util.Arrays.fill(actual, 7f);
      product.multiplyRows(p.a(), p.b(), actual, k, m, 2, 5);
      for (int i = 0; i < n * m; i++) {
        float want = i >= 2 * m && i < 5 * m ? p.expected()[i] : 7f;
        if (Float.floatToIntBits(want) != Float.floatToIntBits(actual[i])) {
          fail(product.name() + ": element " + i + " expected " + want + " got " + actual[i]);
        }
      }
    }
  }

  /** The facade follows the optimizer kernels' choice (Vector API in this build's tests). */
  @Test
  void facadeFollowsTheOptimizerKernels() {
    OptimizerKernels kernels = Kernels.get();
    String expected = kernels == Kernels.scalar() ? "scalar" : kernels.name();
    assertEquals(expected, MatrixKernels.implementation());
  }

  /**
   * The operands of a product and {@link MatrixMultiply}'s result, which the product under test
   * must match bit for bit.
   *
   * @param a the n x k left operand
   * @param b the k x m right operand
   * @param expected {@link MatrixMultiply}'s product
   */
  private record Product(float[] a, float[] b, float[] expected) {

    /** Random operands (as {@code fill} makes them) from {@code seed}. */
    static Product random(long seed, int n, int k, int m) {
      SplittableRandom random = new SplittableRandom(seed);
      float[] a = fill(n * k, random);
      float[] b = fill(k * m, random);
      return of(a, b, n, k, m);
    }

    /** The given operands, after any special values were put in. */
    static Product of(float[] a, float[] b, int n, int k, int m) {
      float[] expected = new float[n * m];
      MatrixMultiply.multiply(a, b, expected, n, k, m);
      return new Product(a, b, expected);
    }
  }

  /** Gaussian values with some exact zeros, negative zeros and large magnitudes. */
  private static float[] fill(int length, SplittableRandom random) {
    float[] x = new float[length];
    for (int i = 0; i < length; i++) {
      int r = random.nextInt(40);
      x[i] =
          switch (r) {
            case 0 -> 0f;
            case 1 -> -0f;
            case 2 -> (float) (random.nextGaussian() * 1e6);
            default -> (float) random.nextGaussian();
          };
    }
    return x;
  }

  private static void assertSameBits(float[] expected, float[] actual, String label) {
    assertEquals(expected.length, actual.length, label);
    for (int i = 0; i < expected.length; i++) {
      if (Float.floatToIntBits(expected[i]) != Float.floatToIntBits(actual[i])) {
        fail(label + ": element " + i + " expected " + expected[i] + " got " + actual[i]);
      }
    }
  }
}
