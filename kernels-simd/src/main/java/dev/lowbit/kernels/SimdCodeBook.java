package dev.lowbit.kernels;

import dev.lowbit.quant.CodeBook;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector encoding and decoding for one {@link CodeBook}, giving exactly {@link CodeBook#encode}
 * (the number of midpoints strictly below {@code x}) and {@link CodeBook#decode}.
 *
 * <p>Encoding, by table size:
 * <ul>
 *   <li><b>At most 16 entries</b> (the 4-bit books): a branch-free binary search over the 15
 *       midpoints held in one register (two at 256 bits), four permute-compare-add steps. At
 *       128 bits the lanes are compared with every midpoint and the hits counted.
 *   <li><b>Larger books</b> (the 8-bit books): the float's exponent and top {@code M} mantissa
 *       bits index a table built from {@code CodeBook.encode} itself. Each bucket spans at most
 *       one midpoint, and inside a bucket all magnitudes share their high bits, so one gathered
 *       table entry holds both the bucket's lower code and that midpoint's low bits; an integer
 *       comparison of the value's low bits settles the code. {@code M} is the smallest value that
 *       makes every bucket span at most one midpoint (6 for dynamic-signed-8, 7 for
 *       dynamic-unsigned-8).
 *   <li>A book too dense for such a table, or with a midpoint at exactly 0: branch-free binary
 *       search with eight gathers.
 * </ul>
 * NaN encodes to 0, as in {@code CodeBook.encode}. Decoding is a register permute for 16 entries
 * (a gather at 128 bits) and a gather for larger books.
 */
final class SimdCodeBook {

  private static final Map<CodeBook, SimdCodeBook> CACHE = new ConcurrentHashMap<>();

  private static final ByteOrder ORDER = ByteOrder.nativeOrder();

  /** Largest bucket table worth its cache footprint (ints per sign). */
  private static final int MAX_BUCKETS = 4096;

  private enum Method {
    REGISTER,
    BUCKETS,
    SEARCH
  }

  private final CodeBook book;
  private final int bits;
  private final Method method;
  private final int zeroCode;
  /** Table values, padded with 0 to a power of two (codes past the table never occur). */
  private final float[] values;
  /** Midpoints, padded with +infinity: a padded entry is never below a value. */
  private final float[] midpoints;
  /** Float bits of {@link #values} and {@link #midpoints}, for 16-entry register lookups. */
  private final int[] valueBits;
  private final int[] midpointBits;
  // Bucket table (Method.BUCKETS).
  private final int shift;
  private final int base;
  private final int buckets;
  private final boolean signedKeys;
  private final int lowMask;
  /** Per bucket: lower code in bits 0..7, the in-bucket threshold above them (BucketTable). */
  private final int[] entries;

  private SimdCodeBook(CodeBook book) {
    this.book = book;
    this.bits = book.bits();
    int padded = book.size() <= 16 ? 16 : 256;
    this.values = Arrays.copyOf(book.values(), padded);
    this.midpoints = new float[padded];
    Arrays.fill(midpoints, Float.POSITIVE_INFINITY);
    System.arraycopy(book.midpoints(), 0, midpoints, 0, book.size() - 1);
    this.valueBits = floatBits(values);
    this.midpointBits = floatBits(midpoints);
    this.zeroCode = book.encode(0f);
    BucketTable table = book.size() <= 16 ? null : BucketTable.build(book);
    if (book.size() <= 16) {
      method = Method.REGISTER;
    } else if (table != null) {
      method = Method.BUCKETS;
    } else {
      method = Method.SEARCH;
    }
    this.shift = table == null ? 0 : table.shift;
    this.base = table == null ? 0 : table.base;
    this.buckets = table == null ? 0 : table.buckets;
    this.signedKeys = table != null && table.signedKeys;
    this.lowMask = (1 << shift) - 1;
    this.entries = table == null ? null : table.entries;
  }

  /**
   * The vector coder of a book, built once per book.
   *
   * @param book the code book
   * @return its vector coder
   */
  static SimdCodeBook of(CodeBook book) {
    return CACHE.computeIfAbsent(book, SimdCodeBook::new);
  }

  /** The method's name, for tests and logs. */
  String method() {
    return method.name().toLowerCase(java.util.Locale.ROOT);
  }

  /**
   * Decodes elements {@code [first, first + n)} with one scale into {@code dst[off, off + n)}:
   * {@code value(code) * scale}.
   *
   * @param shape vector width
   * @param codes the packed codes
   * @param first first element (even for 4-bit books)
   * @param n number of elements (at most {@code index.length})
   * @param scale the block's scale
   * @param dst the output
   * @param off first output index
   * @param index scratch of at least {@code n} ints
   */
  void decode(
      SimdShape shape, MemorySegment codes, long first, int n, float scale, float[] dst, int off,
      int[] index) {
    int bound = shape.floats().loopBound(n);
    if (method == Method.REGISTER && shape.floats().length() >= 8) {
      decodeRegister(shape, codes, first, bound, scale, dst, off);
    } else {
      decodeGather(shape, codes, first, bound, scale, dst, off, index);
    }
    for (int k = bound; k < n; k++) {
      dst[off + k] = book.decode(Codes.read(codes, bits, first + k), scale);
    }
  }

  // The loops below keep their vector work within a few calls of the loop: the JIT stops
  // inlining past a fixed depth, and a Vector API call it does not inline runs a slow Java path.

  private void decodeRegister(
      SimdShape shape, MemorySegment codes, long first, int bound, float scale, float[] dst,
      int off) {
    VectorSpecies<Integer> ints = shape.ints();
    boolean wide = ints.length() == 16;
    IntVector low = IntVector.fromArray(ints, valueBits, 0);
    IntVector high = wide ? low : IntVector.fromArray(ints, valueBits, 8);
    for (int k = 0; k < bound; k += ints.length()) {
      IntVector c = SimdCodes.load(shape, codes, bits, first + k);
      lookup16(wide, low, high, c).reinterpretAsFloats().mul(scale).intoArray(dst, off + k);
    }
  }

  private void decodeGather(
      SimdShape shape, MemorySegment codes, long first, int bound, float scale, float[] dst,
      int off, int[] index) {
    VectorSpecies<Float> floats = shape.floats();
    for (int k = 0; k < bound; k += floats.length()) {
      SimdCodes.load(shape, codes, bits, first + k).intoArray(index, k);
      FloatVector.fromArray(floats, values, 0, index, k).mul(scale).intoArray(dst, off + k);
    }
  }

  /**
   * Lane {@code i} is {@code table[c[i]]} for a 16-entry table: one permute of a 16-lane vector,
   * or a two-vector select from its two halves at 8 lanes. ({@code selectFrom}, not
   * {@code rearrange(c.toShuffle())}: the shuffle conversion made the 4-bit encoder about 3x
   * slower in a quick measurement.)
   */
  private static IntVector lookup16(boolean wide, IntVector low, IntVector high, IntVector c) {
    return wide ? c.selectFrom(low) : c.selectFrom(low, high);
  }

  /**
   * Encodes {@code src[off, off + n)} under one scale into elements {@code [first, first + n)}:
   * {@code encode(x / scale)}, or {@code encode(0)} for every element when the scale is 0.
   * Precondition: if some {@code x} is NaN, the scale is not finite; the block scale
   * {@code max |x|} ({@link SimdUpdate#absMax}) always is NaN then.
   *
   * <p>With {@code clear} not null, the same loop also sets floats {@code [first, first + n)} of
   * {@code clear} to zero, one vector per vector of codes. The kernels clear a gradient this way
   * because here its stores overlap the encoder's arithmetic: 3-5 ms per 64 MiB in a 2-thread
   * step, against 5-6 ms as a fill after each chunk; in the update loop, which is bound by memory
   * traffic already, they gained nothing (docs/benchmarks.md, DJL adapter, run 9).
   *
   * @param shape vector width
   * @param src the new values
   * @param off first input index
   * @param n number of elements
   * @param scale the block's new scale
   * @param codes the packed codes
   * @param first first element (even for 4-bit books)
   * @param index scratch of at least {@code n} ints
   * @param clear a float segment to clear over the same elements, or null
   */
  void encode(
      SimdShape shape, float[] src, int off, int n, float scale, MemorySegment codes, long first,
      int[] index, MemorySegment clear) {
    int bound = shape.floats().loopBound(n);
    if (scale == 0f) {
      IntVector zero = IntVector.broadcast(shape.ints(), zeroCode);
      for (int k = 0; k < bound; k += shape.floats().length()) {
        store(shape, zero, null, 0, k, codes, first, clear);
      }
    } else {
      switch (method) {
        case REGISTER -> encodeRegister(shape, src, null, scale, off, bound, codes, first, clear);
        case BUCKETS ->
            encodeBuckets(shape, src, null, scale, off, bound, codes, first, index, clear);
        case SEARCH ->
            encodeSearch(shape, src, null, scale, off, bound, codes, first, index, clear);
      }
    }
    for (int k = bound; k < n; k++) {
      Codes.write(codes, bits, first + k, ScalarKernels.encode(book, src[off + k], scale));
    }
    Segments.clearChunk(clear, first + bound, n - bound);
  }

  /**
   * Encodes {@code src[off, off + n)} with one scale per element ({@code scales[off + k]}):
   * {@code encode(x / scale)}, or {@code encode(0)} where the scale is 0.
   *
   * @param shape vector width
   * @param src the new values
   * @param scales the element scales
   * @param off first input index
   * @param n number of elements
   * @param codes the packed codes
   * @param first first element (even for 4-bit books)
   * @param index scratch of at least {@code n} ints
   */
  void encode(
      SimdShape shape, float[] src, float[] scales, int off, int n, MemorySegment codes, long first,
      int[] index) {
    int bound = shape.floats().loopBound(n);
    switch (method) {
      case REGISTER -> encodeRegister(shape, src, scales, 0f, off, bound, codes, first, null);
      case BUCKETS -> encodeBuckets(shape, src, scales, 0f, off, bound, codes, first, index, null);
      case SEARCH -> encodeSearch(shape, src, scales, 0f, off, bound, codes, first, index, null);
    }
    for (int k = bound; k < n; k++) {
      Codes.write(
          codes, bits, first + k, ScalarKernels.encode(book, src[off + k], scales[off + k]));
    }
  }

  /**
   * 16-entry books: a branch-free binary search over 16 slots (15 midpoints and a +inf pad), four
   * permute-compare-add steps; at 128 bits, where a 16-entry permute is not one instruction, the
   * midpoints below each lane are counted instead. With per-element scales ({@code scales} not
   * null) a zero scale gives {@code encode(0)}.
   */
  private void encodeRegister(
      SimdShape shape, float[] src, float[] scales, float scale, int off, int bound,
      MemorySegment codes, long first, MemorySegment clear) {
    VectorSpecies<Float> floats = shape.floats();
    VectorSpecies<Integer> ints = shape.ints();
    boolean wide = ints.length() == 16;
    boolean narrow = ints.length() < 8;
    IntVector low = narrow ? null : IntVector.fromArray(ints, midpointBits, 0);
    IntVector high = narrow || wide ? low : IntVector.fromArray(ints, midpointBits, 8);
    for (int k = 0; k < bound; k += ints.length()) {
      FloatVector q = quotient(floats, src, scales, scale, off, k);
      IntVector c = IntVector.zero(ints);
      if (narrow) {
        for (int m = 0; m < book.size() - 1; m++) {
          c = c.add(1, q.compare(VectorOperators.GT, midpoints[m]).cast(ints));
        }
      } else {
        c = c.add(8, lookup16(wide, low, high, c.add(7)).reinterpretAsFloats()
            .compare(VectorOperators.LT, q).cast(ints));
        c = c.add(4, lookup16(wide, low, high, c.add(3)).reinterpretAsFloats()
            .compare(VectorOperators.LT, q).cast(ints));
        c = c.add(2, lookup16(wide, low, high, c.add(1)).reinterpretAsFloats()
            .compare(VectorOperators.LT, q).cast(ints));
        c = c.add(1, lookup16(wide, low, high, c).reinterpretAsFloats()
            .compare(VectorOperators.LT, q).cast(ints));
      }
      store(shape, c, scales, off, k, codes, first, clear);
    }
  }

  /**
   * Larger books: the bucket of the float's magnitude bits gives the lower code, one gathered
   * comparison with that code's upper midpoint settles it.
   */
  private void encodeBuckets(
      SimdShape shape, float[] src, float[] scales, float scale, int off, int bound,
      MemorySegment codes, long first, int[] index, MemorySegment clear) {
    VectorSpecies<Float> floats = shape.floats();
    VectorSpecies<Integer> ints = shape.ints();
    // x / scale is NaN only for a NaN x or a non-finite scale, and a block holding a NaN has a
    // NaN scale (its absmax); so a finite block scale needs no NaN test. Per-element scales are
    // always tested.
    boolean checkNaN = scales != null || !Float.isFinite(scale);
    for (int k = 0; k < bound; k += ints.length()) {
      FloatVector q = quotient(floats, src, scales, scale, off, k);
      IntVector raw = q.reinterpretAsInts();
      IntVector magnitude = signedKeys ? raw.and(0x7FFFFFFF) : raw.lanewise(VectorOperators.MAX, 0);
      IntVector key =
          magnitude
              .lanewise(VectorOperators.LSHR, shift)
              .sub(base)
              .lanewise(VectorOperators.MAX, 0)
              .lanewise(VectorOperators.MIN, buckets - 1);
      IntVector within = magnitude.and(lowMask);
      if (signedKeys) {
        // Negative values use the second half of the table, and compare magnitudes reversed.
        IntVector negative = raw.lanewise(VectorOperators.ASHR, 31);
        key = key.add(negative.and(buckets));
        within = within.lanewise(VectorOperators.XOR, negative.and(lowMask));
      }
      key.intoArray(index, k);
      IntVector entry = IntVector.fromArray(ints, entries, 0, index, k);
      IntVector threshold = entry.lanewise(VectorOperators.LSHR, 8);
      IntVector c = entry.and(0xFF).add(1, within.compare(VectorOperators.GT, threshold));
      if (checkNaN) {
        // A NaN lands in the top bucket; CodeBook.encode gives it 0.
        c = c.blend(0, q.test(VectorOperators.IS_NAN).cast(ints));
      }
      store(shape, c, scales, off, k, codes, first, clear);
    }
  }

  /** Books too dense for a bucket table: eight gathered steps of a branch-free binary search. */
  private void encodeSearch(
      SimdShape shape, float[] src, float[] scales, float scale, int off, int bound,
      MemorySegment codes, long first, int[] index, MemorySegment clear) {
    VectorSpecies<Float> floats = shape.floats();
    VectorSpecies<Integer> ints = shape.ints();
    for (int k = 0; k < bound; k += ints.length()) {
      FloatVector q = quotient(floats, src, scales, scale, off, k);
      IntVector c = IntVector.zero(ints);
      for (int step = 128; step >= 1; step >>= 1) {
        c.add(step - 1).intoArray(index, k);
        FloatVector probe = FloatVector.fromArray(floats, midpoints, 0, index, k);
        c = c.add(step, probe.compare(VectorOperators.LT, q).cast(ints));
      }
      store(shape, c, scales, off, k, codes, first, clear);
    }
  }

  /** {@code x / scale} for one vector of {@code src}, with one scale or the element scales. */
  private static FloatVector quotient(
      VectorSpecies<Float> floats, float[] src, float[] scales, float scale, int off, int k) {
    FloatVector x = FloatVector.fromArray(floats, src, off + k);
    return scales == null ? x.div(scale) : x.div(FloatVector.fromArray(floats, scales, off + k));
  }

  /**
   * The end of every encoder's vector step: with element scales, {@code encode(0)} where the
   * scale is 0; then the codes stored and, when asked, those elements of {@code clear} zeroed.
   */
  private void store(
      SimdShape shape, IntVector c, float[] scales, int off, int k, MemorySegment codes,
      long first, MemorySegment clear) {
    if (scales != null) {
      VectorMask<Float> zero =
          FloatVector.fromArray(shape.floats(), scales, off + k).compare(VectorOperators.EQ, 0f);
      c = c.blend(zeroCode, zero.cast(shape.ints()));
    }
    SimdCodes.store(shape, c, codes, bits, first + k);
    clearVector(shape, clear, first + k);
  }

  /** Sets one vector of floats of {@code clear}, from element {@code first}, to zero. */
  private static void clearVector(SimdShape shape, MemorySegment clear, long first) {
    if (clear != null) {
      FloatVector.zero(shape.floats()).intoMemorySegment(clear, first * Float.BYTES, ORDER);
    }
  }

  private static int[] floatBits(float[] values) {
    int[] out = new int[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = Float.floatToRawIntBits(values[i]);
    }
    return out;
  }

  /**
   * The exponent-and-mantissa bucket table of a book. Bucket {@code b} holds the floats whose
   * magnitude bits shifted right by {@code shift} equal {@code base + b}; the first and last
   * buckets also take everything below and above, and are placed so that they hold no midpoint.
   * Every other bucket holds at most one midpoint, so inside a bucket (where the high bits are
   * equal) "above that midpoint" is a comparison of the low {@code shift} bits of the magnitude.
   * Entry {@code b} packs the code of the bucket's lowest float (bits 0..7) and that midpoint's
   * low bits (from bit 8; all ones when there is none, which nothing exceeds). Negative floats use
   * a second half, with the low bits complemented so that "above" stays "greater"; unless every
   * midpoint is positive, in which case all of them encode to 0 and share bucket 0 with
   * {@code +0}. Books with a midpoint at exactly 0 have no such table.
   */
  private record BucketTable(int shift, int base, int buckets, boolean signedKeys, int[] entries) {

    static BucketTable build(CodeBook book) {
      float[] mids = book.midpoints();
      float minAbs = Float.POSITIVE_INFINITY;
      float maxAbs = 0f;
      for (float m : mids) {
        if (m == 0f) {
          return null;
        }
        minAbs = Math.min(minAbs, Math.abs(m));
        maxAbs = Math.max(maxAbs, Math.abs(m));
      }
      boolean signedKeys = !(mids[0] > 0f);
      int lowBits = Float.floatToRawIntBits(minAbs);
      int highBits = Float.floatToRawIntBits(maxAbs);
      for (int mantissaBits = 0; mantissaBits <= 12; mantissaBits++) {
        int shift = 23 - mantissaBits;
        // One spare bucket at each end, so the clamped end buckets hold no midpoint.
        int base = (lowBits >>> shift) - 1;
        int buckets = (highBits >>> shift) + 1 - base + 1;
        if (base < 0 || buckets > MAX_BUCKETS) {
          return null;
        }
        int[] entries = new int[signedKeys ? 2 * buckets : buckets];
        if (fill(book, shift, base, buckets, signedKeys, entries)) {
          return new BucketTable(shift, base, buckets, signedKeys, entries);
        }
      }
      return null;
    }

    /** Fills {@code entries}; false if some bucket spans more than one midpoint. */
    private static boolean fill(
        CodeBook book, int shift, int base, int buckets, boolean signedKeys, int[] entries) {
      int mask = (1 << shift) - 1;
      for (int b = 0; b < buckets; b++) {
        boolean end = b == 0 || b == buckets - 1;
        float bottom = b == 0 ? 0f : Float.intBitsToFloat((base + b) << shift);
        float top =
            b == buckets - 1
                ? Float.POSITIVE_INFINITY
                : Float.intBitsToFloat(((base + b + 1) << shift) - 1);
        Integer entry = entry(book, bottom, top, end, mask, false);
        if (entry == null) {
          return false;
        }
        entries[b] = entry;
        if (signedKeys) {
          Integer negative = entry(book, -top, b == 0 ? -0f : -bottom, end, mask, true);
          if (negative == null) {
            return false;
          }
          entries[buckets + b] = negative;
        }
      }
      return true;
    }

    /**
     * The entry of the bucket {@code [low, high]} (as floats), or null if it cannot be one:
     * more than one midpoint, or any midpoint in an end bucket.
     */
    private static Integer entry(
        CodeBook book, float low, float high, boolean end, int mask, boolean negative) {
      int lo = book.encode(low);
      int hi = book.encode(high);
      if (hi - lo > 1 || (end && hi != lo) || lo > 0xFF) {
        return null;
      }
      if (hi == lo) {
        return lo | (mask << 8);
      }
      int midLow = Float.floatToRawIntBits(book.midpoint(lo)) & mask;
      return lo | ((negative ? mask - midLow : midLow) << 8);
    }
  }
}
