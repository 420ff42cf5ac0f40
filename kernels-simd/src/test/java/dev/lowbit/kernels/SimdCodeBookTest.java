package dev.lowbit.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lowbit.quant.CodeBook;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The vector coder against {@link CodeBook#encode} and {@link CodeBook#decode}: every built-in
 * book (plus two custom ones that force the other encoding methods), every vector width, on
 * every midpoint and its float neighbours, the table values, signed zeros, subnormals, values
 * outside [-1, 1], infinities, NaN, and a dense sample of [-1.5, 1.5]; block scales 1, infinite
 * and NaN. Each case builds its own coder (bucket table included) from a new book.
 */
class SimdCodeBookTest {

  static Stream<Arguments> booksAndWidths() {
    List<CodeBook> books = new ArrayList<>(CodeBook.builtIns());
    books.add(randomBook());
    books.add(denseBook());
    books.add(zeroMidpointBook());
    List<Arguments> out = new ArrayList<>();
    for (int bits : new int[] {512, 256, 128}) {
      for (CodeBook book : books) {
        out.add(Arguments.of(book, bits));
      }
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0} at {1} bits")
  @MethodSource("booksAndWidths")
  void encodesExactlyLikeTheCodeBook(CodeBook book, int bits) {
    SimdShape shape = SimdShape.of(bits);
    SimdCodeBook coder = freshCoder(book);
    float[] inputs = probes(book);
    int n = inputs.length;
    byte[] codes = new byte[n];
    // Chunks the size of a kernel tile, like the kernels call it; odd n exercises the tail.
    int tile = 4096;
    int[] index = new int[tile];
    MemorySegment segment = MemorySegment.ofArray(codes);
    // One block scale: a NaN only ever meets a NaN block scale, so it is left out here.
    float[] finite = new float[n];
    for (int i = 0; i < n; i++) {
      finite[i] = Float.isNaN(inputs[i]) ? 0.25f : inputs[i];
    }
    // The encoder also clears a gradient over the same elements when given one.
    float[] gradient = new float[n];
    Arrays.fill(gradient, 3f);
    MemorySegment clear = MemorySegment.ofArray(gradient);
    for (int from = 0; from < n; from += tile) {
      int len = Math.min(tile, n - from);
      coder.encode(shape, finite, from, len, 1f, segment, from, index, clear);
    }
    assertCodes(book, coder, finite, segment, "one scale");
    for (int i = 0; i < n; i++) {
      assertEquals(0f, gradient[i], book.name() + ": element " + i + " of the cleared gradient");
    }
    // Element scales (rank-1), NaN included; over codes that are all wrong, so that every code
    // must be written again (vector part and tail).
    Arrays.fill(codes, (byte) 0x5A);
    float[] ones = new float[n];
    java.util.Arrays.fill(ones, 1f);
    for (int from = 0; from < n; from += tile) {
      int len = Math.min(tile, n - from);
      coder.encode(shape, inputs, ones, from, len, segment, from, index);
    }
    assertCodes(book, coder, inputs, segment, "element scales");
    // A block scale that is not finite (a block holding an infinity or a NaN): x / scale is NaN
    // for the infinities and the NaN, which encode to 0 as in the reference.
    int few = Math.min(n, tile - 1); // one call, an odd count
    for (float scale : new float[] {Float.POSITIVE_INFINITY, Float.NaN}) {
      Arrays.fill(codes, (byte) 0x5A);
      coder.encode(shape, inputs, 0, few, scale, segment, 0, index, null);
      for (int i = 0; i < few; i++) {
        int expected = ScalarKernels.encode(book, inputs[i], scale);
        int actual = Codes.read(segment, book.bits(), i);
        if (expected != actual) {
          assertEquals(expected, actual, book.name() + " (" + coder.method() + ", scale " + scale
              + "): code of " + inputs[i]);
        }
      }
    }
  }

  /**
   * The coder of a new book with the same values: {@link SimdCodeBook#of} caches one coder per
   * book, so without a new book a test would only ever see the coder (and its bucket table)
   * that the first caller in the JVM built.
   */
  private static SimdCodeBook freshCoder(CodeBook book) {
    return SimdCodeBook.of(CodeBook.of(book.name(), book.bits(), book.values()));
  }

  private static void assertCodes(
      CodeBook book, SimdCodeBook coder, float[] inputs, MemorySegment segment, String path) {
    for (int i = 0; i < inputs.length; i++) {
      int expected = book.encode(inputs[i]);
      int actual = Codes.read(segment, book.bits(), i);
      if (expected != actual) {
        assertEquals(
            expected, actual,
            book.name() + " (" + coder.method() + ", " + path + "): code of " + inputs[i]);
      }
    }
  }

  @ParameterizedTest(name = "{0} at {1} bits")
  @MethodSource("booksAndWidths")
  void decodesExactlyLikeTheCodeBook(CodeBook book, int bits) {
    SimdShape shape = SimdShape.of(bits);
    SimdCodeBook coder = freshCoder(book);
    SplittableRandom random = new SplittableRandom(bits + book.size());
    int n = 4097;
    byte[] codes = new byte[n];
    MemorySegment segment = MemorySegment.ofArray(codes);
    for (int i = 0; i < n; i++) {
      Codes.write(segment, book.bits(), i, random.nextInt(book.size()));
    }
    float scale = 0.37f;
    float[] out = new float[n + 3];
    coder.decode(shape, segment, 0, n, scale, out, 3, new int[n]);
    for (int i = 0; i < n; i++) {
      float expected = book.decode(Codes.read(segment, book.bits(), i), scale);
      assertEquals(
          Float.floatToRawIntBits(expected), Float.floatToRawIntBits(out[i + 3]), "element " + i);
    }
  }

  @org.junit.jupiter.api.Test
  void builtInBooksUseTheFastMethods() {
    for (CodeBook book : CodeBook.builtIns()) {
      String expected = book.size() <= 16 ? "register" : "buckets";
      assertEquals(expected, SimdCodeBook.of(book).method(), book.name());
      assertEquals(expected, freshCoder(book).method(), book.name() + ", a new coder");
    }
    assertEquals("search", SimdCodeBook.of(denseBook()).method());
    assertEquals("search", SimdCodeBook.of(zeroMidpointBook()).method());
  }

  /** Every boundary-sensitive float of the book, then a dense sample; an odd count on purpose. */
  private static float[] probes(CodeBook book) {
    List<Float> list = new ArrayList<>();
    for (float m : book.midpoints()) {
      addAround(list, m);
    }
    for (float v : book.values()) {
      addAround(list, v);
    }
    float[] specials = {
      0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, -Float.MIN_NORMAL,
      Math.nextDown(Float.MIN_NORMAL), 1e-30f, -1e-30f, 1e-7f, -1e-7f, 1f, -1f, 1.5f, -1.5f, 2f,
      -2f, 1e30f, -1e30f, Float.MAX_VALUE, -Float.MAX_VALUE, Float.POSITIVE_INFINITY,
      Float.NEGATIVE_INFINITY, Float.NaN
    };
    for (float s : specials) {
      list.add(s);
    }
    SplittableRandom random = new SplittableRandom(book.size() * 31L + book.bits());
    int dense = 200_001;
    float[] out = new float[list.size() + dense];
    for (int i = 0; i < list.size(); i++) {
      out[i] = list.get(i);
    }
    for (int i = 0; i < dense; i++) {
      // Half uniform in [-1.5, 1.5], half log-uniform magnitudes down to 1e-9 (where the
      // dynamic books keep their small codes).
      float x =
          (i & 1) == 0
              ? (float) (random.nextDouble() * 3.0 - 1.5)
              : (float) (Math.pow(10, -9 * random.nextDouble()) * (random.nextBoolean() ? 1 : -1));
      out[list.size() + i] = x;
    }
    return out;
  }

  private static void addAround(List<Float> list, float x) {
    float down = x;
    float up = x;
    list.add(x);
    for (int i = 0; i < 3; i++) {
      down = Math.nextDown(down);
      up = Math.nextUp(up);
      list.add(down);
      list.add(up);
    }
  }

  /**
   * 199 random sorted values and 0 (a signed book must hold 0): exercises the bucket table on a
   * book it was not tuned for.
   */
  private static CodeBook randomBook() {
    SplittableRandom random = new SplittableRandom(7);
    float[] v = new float[200];
    for (int i = 1; i < v.length; i++) {
      v[i] = (float) (random.nextDouble() * 2 - 1);
    }
    Arrays.sort(v);
    return CodeBook.of("random-8", 8, dedupe(v));
  }

  /**
   * Entries two floats apart (the closest a book allows: one apart, a midpoint can round onto
   * the upper entry): no bucket table can separate them, so the gather search runs.
   */
  private static CodeBook denseBook() {
    float[] v = new float[256];
    float x = 0.5f;
    for (int i = 2; i < v.length; i++) {
      v[i] = x;
      x = Math.nextUp(Math.nextUp(x));
    }
    v[0] = -1f;
    v[1] = 0f;
    v[255] = 1f;
    return CodeBook.of("dense-8", 8, v);
  }

  /**
   * Unsigned, 0 next to the smallest subnormal: their midpoint rounds to exactly 0, which the
   * bucket table refuses.
   */
  private static CodeBook zeroMidpointBook() {
    float[] v = new float[64];
    v[1] = Float.MIN_VALUE;
    for (int i = 2; i < 64; i++) {
      v[i] = (i - 1) / 62f;
    }
    return CodeBook.of("zero-midpoint-8", 8, v);
  }

  private static float[] dedupe(float[] sorted) {
    float[] out = new float[sorted.length];
    int n = 0;
    for (float f : sorted) {
      if (n == 0 || out[n - 1] < f) {
        out[n++] = f;
      }
    }
    return Arrays.copyOf(out, n);
  }
}
