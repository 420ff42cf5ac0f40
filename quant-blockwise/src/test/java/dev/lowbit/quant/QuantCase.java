package dev.lowbit.quant;

import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Tuple;

/** One generated input for the property tests: a format, a shape and finite data. */
record QuantCase(CodeBook book, Normalization normalization, long[] shape, float[] x) {

  static final List<Normalization> NORMALIZATIONS =
      List.of(
          Normalization.blockWise(32),
          Normalization.blockWise(64),
          Normalization.blockWise(128),
          Normalization.blockWise(4096),
          Normalization.rank1(),
          Normalization.perTensor());

  QuantizedTensor quantize(Rounding rounding) {
    QuantizedTensor q = QuantizedTensor.allocate(book, normalization, shape);
    q.quantize(java.lang.foreign.MemorySegment.ofArray(x.clone()), rounding);
    return q;
  }

  float[] scales() {
    return ReferenceScales.of(normalization, shape, x);
  }

  @Override
  public String toString() {
    return book.name() + " " + normalization.label() + " " + Arrays.toString(shape) + " "
        + (x.length <= 20 ? Arrays.toString(x) : x.length + " values");
  }

  /** Any built-in book with any normalization. */
  static Arbitrary<QuantCase> any() {
    return of(Arbitraries.of(CodeBook.builtIns()));
  }

  /** Cases for the given books; unsigned books get non-negative data (what they are for). */
  static Arbitrary<QuantCase> of(Arbitrary<CodeBook> books) {
    return Combinators.combine(books, Arbitraries.of(NORMALIZATIONS))
        .flatAs(
            (book, norm) ->
                shapes(norm)
                    .flatMap(
                        shape ->
                            finiteFloats()
                                .map(v -> book.signed() ? v : Math.abs(v))
                                .array(float[].class)
                                .ofSize((int) Shapes.elementCount(shape))
                                .map(x -> new QuantCase(book, norm, shape, x))));
  }

  /**
   * Lengths at and around every block boundary the normalizations use, or anything in 0..300;
   * rank-1 also gets 2-D and 3-D shapes.
   */
  static Arbitrary<long[]> shapes(Normalization norm) {
    Arbitrary<Long> boundary = Arbitraries.of(0L, 1L, 2L, 31L, 32L, 33L, 63L, 64L, 65L, 127L,
        128L, 129L, 255L, 256L, 257L, 4095L, 4096L, 4097L);
    Arbitrary<long[]> flat =
        Arbitraries.oneOf(boundary, Arbitraries.longs().between(0, 300)).map(n -> new long[] {n});
    if (!(norm instanceof Normalization.Rank1)) {
      return flat;
    }
    Arbitrary<Long> dim = Arbitraries.longs().between(0, 12);
    return Arbitraries.oneOf(
        flat,
        Combinators.combine(dim, dim).as((a, b) -> new long[] {a, b}),
        Combinators.combine(dim, dim, dim).as((a, b, c) -> new long[] {a, b, c}));
  }

  /**
   * Finite floats of every magnitude: raw bit patterns (subnormals to MAX_VALUE), ordinary
   * decimals, and the usual edge values.
   */
  static Arbitrary<Float> finiteFloats() {
    return Arbitraries.frequencyOf(
        Tuple.of(3, Arbitraries.integers().map(Float::intBitsToFloat).filter(Float::isFinite)),
        Tuple.of(5, Arbitraries.floats().between(-4f, 4f).ofScale(7)),
        Tuple.of(
            2,
            Arbitraries.of(
                0f, -0f, 1f, -1f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL,
                Float.MAX_VALUE, -Float.MAX_VALUE)));
  }
}
