package dev.lowbit.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** The properties over arbitrary finite inputs, every book and every normalization. */
class QuantizationPropertiesTest {

  @Provide
  Arbitrary<QuantCase> anyCase() {
    return QuantCase.any();
  }

  @Provide
  Arbitrary<QuantCase> zeroFreeCase() {
    return QuantCase.of(
        Arbitraries.of(CodeBook.builtIns().stream().filter(b -> !b.containsZero()).toList()));
  }

  @Provide
  Arbitrary<QuantCase> signedCase() {
    return QuantCase.of(
        Arbitraries.of(CodeBook.builtIns().stream().filter(CodeBook::signed).toList()));
  }

  /**
   * |x̂ - x| <= (half the local gap between codes) · scale, plus float32 rounding of x / scale and
   * of value · scale (a few ulps of the scale, and one subnormal step).
   */
  @Property(tries = 400)
  void decodedValueIsWithinHalfTheLocalGap(@ForAll("anyCase") QuantCase c) {
    float[] y = c.quantize(Rounding.NEAREST).dequantize();
    float[] scale = c.scales();
    for (int i = 0; i < c.x().length; i++) {
      float x = c.x()[i];
      float s = scale[i];
      if (s == 0f) {
        assertEquals(0f, y[i], 0f, "all-zero scale group at " + i);
        continue;
      }
      double bound =
          ReferenceScales.halfLocalGap(c.book(), (double) x / s) * s + 4 * Math.ulp(s)
              + Float.MIN_VALUE;
      assertTrue(
          Math.abs((double) y[i] - x) <= bound,
          "index " + i + ": x " + x + " decoded " + y[i] + " scale " + s);
    }
  }

  /** Linear-4 and DE-0 have no zero entry: a non-zero input never decodes to 0 (nearest). */
  @Property(tries = 300)
  void zeroFreeBooksNeverDecodeNonZeroToZero(@ForAll("zeroFreeCase") QuantCase c) {
    float[] y = c.quantize(Rounding.NEAREST).dequantize();
    for (int i = 0; i < y.length; i++) {
      if (c.x()[i] != 0f) {
        assertTrue(y[i] != 0f, "index " + i + ": " + c.x()[i] + " decoded to 0");
      }
    }
  }

  /** A signed book never flips a sign, with either rounding. */
  @Property(tries = 300)
  void signedBooksKeepTheSign(@ForAll("signedCase") QuantCase c, @ForAll long seed) {
    for (Rounding rounding : new Rounding[] {Rounding.NEAREST, Rounding.stochastic(seed)}) {
      float[] y = c.quantize(rounding).dequantize();
      for (int i = 0; i < y.length; i++) {
        float x = c.x()[i];
        assertTrue(
            x > 0 ? y[i] >= 0 : x < 0 ? y[i] <= 0 : y[i] == 0,
            "index " + i + ": " + x + " decoded to " + y[i] + " with " + rounding);
      }
    }
  }

  /**
   * quantize(dequantize(codes)) == codes. It holds whenever the decoded tensor has the same scales
   * as the original, which is always so for books holding both +1 and -1 (or unsigned ones with
   * +1): each scale group's extreme decodes to exactly ±scale. The asymmetric signed books
   * (dynamic-signed-8, de-signed-4) have no -1, so a group whose extreme is negative shrinks its
   * scale; {@link #asymmetricBookShrinksANegativeExtreme} shows that case. Decoded values must
   * be normal floats for the division to be exact enough, hence scales of at least 1e-30.
   */
  @Property(tries = 400)
  void requantizingDecodedValuesGivesTheSameCodes(@ForAll("anyCase") QuantCase c) {
    for (float s : c.scales()) {
      Assume.that(s == 0f || s >= 1e-30f);
    }
    QuantizedTensor first = c.quantize(Rounding.NEAREST);
    float[] y = first.dequantize();
    QuantizedTensor second = QuantizedTensor.allocate(c.book(), c.normalization(), c.shape());
    second.quantize(y);
    boolean sameScales = bytes(first.scales()).length == 0
        || java.util.Arrays.equals(bytes(first.scales()), bytes(second.scales()));
    if (hasBothExtremes(c.book())) {
      assertTrue(sameScales, "scales changed");
    }
    if (sameScales) {
      assertArrayEquals(bytes(first.codes()), bytes(second.codes()));
    }
  }

  @Property(tries = 100)
  void allEqualGroupsRoundTrip(
      @ForAll("finite") float value, @ForAll("anyCase") QuantCase shapeSource) {
    CodeBook book = shapeSource.book();
    float c = book.signed() ? value : Math.abs(value);
    float[] x = new float[shapeSource.x().length];
    java.util.Arrays.fill(x, c);
    QuantizedTensor q =
        QuantizedTensor.allocate(book, shapeSource.normalization(), shapeSource.shape());
    q.quantize(x);
    float[] y = q.dequantize();
    // The extreme ±|c| maps to ±1 when the book holds it, else to the book's extreme entry.
    float expected = c == 0f ? 0f : book.value(book.encode(Math.signum(c))) * Math.abs(c);
    for (int i = 0; i < y.length; i++) {
      assertEquals(expected, y[i], 0f, "index " + i);
      if (c == 0f || book.value(book.encode(Math.signum(c))) == Math.signum(c)) {
        assertEquals(c, y[i], 0f, "exact round trip at " + i);
      }
    }
  }

  @Provide
  Arbitrary<Float> finite() {
    return QuantCase.finiteFloats();
  }

  @net.jqwik.api.Example
  void asymmetricBookShrinksANegativeExtreme() {
    QuantizedTensor q =
        QuantizedTensor.allocate(CodeBook.DE_SIGNED_4, Normalization.blockWise(32), 2);
    q.quantize(new float[] {-1f, 0.85f});
    float[] y = q.dequantize();
    assertArrayEquals(new float[] {-0.8875f, 0.8875f}, y, 0f);
    QuantizedTensor again =
        QuantizedTensor.allocate(CodeBook.DE_SIGNED_4, Normalization.blockWise(32), 2);
    again.quantize(y);
    // The new scale is 0.8875, so 0.8875 is now the block's +1 entry: a different code.
    assertEquals(0.8875f, again.scales().getAtIndex(ValueLayout.JAVA_FLOAT, 0));
    assertEquals(CodeBook.DE_SIGNED_4.size() - 1, again.code(1));
  }

  @net.jqwik.api.Example
  void de1KeepsANegativeExtreme() {
    QuantizedTensor q =
        QuantizedTensor.allocate(CodeBook.DE1_SIGNED_4, Normalization.blockWise(32), 2);
    q.quantize(new float[] {-1f, 0.85f});
    float[] y = q.dequantize();
    assertArrayEquals(new float[] {-1f, 0.8875f}, y, 0f);
    QuantizedTensor again =
        QuantizedTensor.allocate(CodeBook.DE1_SIGNED_4, Normalization.blockWise(32), 2);
    again.quantize(y);
    assertArrayEquals(bytes(q.codes()), bytes(again.codes()));
    assertArrayEquals(bytes(q.scales()), bytes(again.scales()));
  }

  static boolean hasBothExtremes(CodeBook book) {
    return book.value(book.size() - 1) == 1f && (!book.signed() || book.value(0) == -1f);
  }

  static byte[] bytes(MemorySegment segment) {
    return segment.toArray(ValueLayout.JAVA_BYTE);
  }
}
