package dev.lowbit.kernels;

import dev.lowbit.quant.CodeBook;
import java.lang.foreign.MemorySegment;
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
 *       bits index a table built from {@code CodeBook.encode} itself; each bucket spans at most
 *       one midpoint, so the table gives the lower code {@code lo} and one gathered comparison
 *       with {@code midpoint(lo)} settles it. {@code M} is the smallest value that makes every
 *       bucket span at most one midpoint (6 for dynamic-signed-8, 7 for dynamic-unsigned-8).
 *   <li>A book too dense for such a table: branch-free binary search with eight gathers.
 * </ul>
 * NaN encodes to 0, as in {@code CodeBook.encode}. Decoding is a register permute for 16 entries
 * (a gather at 128 bits) and a gather for larger books.
 */
final class SimdCodeBook {

  private static final Map<CodeBook, SimdCodeBook> CACHE = new ConcurrentHashMap<>();

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
  private final int[] lowCodes;

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
    this.lowCodes = table == null ? null : table.lowCodes;
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
    VectorSpecies<Float> floats = shape.floats();
    int bound = floats.loopBound(n);
    int k = 0;
    for (; k < bound; k += floats.length()) {
      IntVector c = SimdCodes.load(shape, codes, bits, first + k);
      lookup(shape, c, index, k).mul(scale).intoArray(dst, off + k);
    }
    for (; k < n; k++) {
      dst[off + k] = book.decode(Codes.read(codes, bits, first + k), scale);
    }
  }

  private FloatVector lookup(SimdShape shape, IntVector c, int[] index, int k) {
    VectorSpecies<Float> floats = shape.floats();
    if (method == Method.REGISTER && floats.length() >= 8) {
      return permute(shape, c, valueBits).reinterpretAsFloats();
    }
    c.intoArray(index, k);
    return FloatVector.fromArray(floats, values, 0, index, k);
  }

  /** Lane {@code i} of the result is {@code table[c[i]]} for a 16-entry table (8 or 16 lanes). */
  private static IntVector permute(SimdShape shape, IntVector c, int[] table) {
    VectorSpecies<Integer> ints = shape.ints();
    if (ints.length() == 16) {
      return c.selectFrom(IntVector.fromArray(ints, table, 0));
    }
    return c.selectFrom(IntVector.fromArray(ints, table, 0), IntVector.fromArray(ints, table, 8));
  }

  /**
   * Encodes {@code src[off, off + n)} under one scale into elements {@code [first, first + n)}:
   * {@code encode(x / scale)}, or {@code encode(0)} for every element when the scale is 0.
   *
   * @param shape vector width
   * @param src the new values
   * @param off first input index
   * @param n number of elements
   * @param scale the block's new scale
   * @param codes the packed codes
   * @param first first element (even for 4-bit books)
   * @param index scratch of at least {@code n} ints
   */
  void encode(
      SimdShape shape, float[] src, int off, int n, float scale, MemorySegment codes, long first,
      int[] index) {
    int bound = shape.floats().loopBound(n);
    if (scale == 0f) {
      IntVector zero = IntVector.broadcast(shape.ints(), zeroCode);
      for (int k = 0; k < bound; k += shape.floats().length()) {
        SimdCodes.store(shape, zero, codes, bits, first + k);
      }
    } else {
      encodeVectors(shape, src, null, scale, off, bound, codes, first, index);
    }
    for (int k = bound; k < n; k++) {
      Codes.write(codes, bits, first + k, ScalarKernels.encode(book, src[off + k], scale));
    }
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
    encodeVectors(shape, src, scales, 0f, off, bound, codes, first, index);
    for (int k = bound; k < n; k++) {
      Codes.write(codes, bits, first + k, ScalarKernels.encode(book, src[off + k], scales[off + k]));
    }
  }

  /**
   * The vector part of both encoders, {@code bound} a multiple of the lane count. One loop per
   * method, so that each compiles small enough for the JIT to keep every vector in registers.
   */
  private void encodeVectors(
      SimdShape shape, float[] src, float[] scales, float scale, int off, int bound,
      MemorySegment codes, long first, int[] index) {
    switch (method) {
      case REGISTER -> {
        if (shape.floats().length() >= 8) {
          encodeRegister(shape, src, scales, scale, off, bound, codes, first);
        } else {
          encodeCount(shape, src, scales, scale, off, bound, codes, first);
        }
      }
      case BUCKETS -> encodeBuckets(shape, src, scales, scale, off, bound, codes, first, index);
      case SEARCH -> encodeSearch(shape, src, scales, scale, off, bound, codes, first, index);
    }
  }

  /** {@code src / scale} of lanes {@code [off + k, ...)}; with per-element scales if given. */
  private static FloatVector normalized(
      SimdShape shape, float[] src, float[] scales, float scale, int at) {
    FloatVector x = FloatVector.fromArray(shape.floats(), src, at);
    return scales == null ? x.div(scale) : x.div(FloatVector.fromArray(shape.floats(), scales, at));
  }

  /** Where an element scale is 0 the code is {@code encode(0)}, whatever the division gave. */
  private IntVector zeroScales(SimdShape shape, IntVector c, float[] scales, int at) {
    if (scales == null) {
      return c;
    }
    VectorMask<Float> zero =
        FloatVector.fromArray(shape.floats(), scales, at).compare(VectorOperators.EQ, 0f);
    return c.blend(zeroCode, zero.cast(shape.ints()));
  }

  private void encodeRegister(
      SimdShape shape, float[] src, float[] scales, float scale, int off, int bound,
      MemorySegment codes, long first) {
    int lanes = shape.floats().length();
    for (int k = 0; k < bound; k += lanes) {
      FloatVector q = normalized(shape, src, scales, scale, off + k);
      IntVector c = zeroScales(shape, registerSearch(shape, q), scales, off + k);
      SimdCodes.store(shape, c, codes, bits, first + k);
    }
  }

  private void encodeCount(
      SimdShape shape, float[] src, float[] scales, float scale, int off, int bound,
      MemorySegment codes, long first) {
    int lanes = shape.floats().length();
    for (int k = 0; k < bound; k += lanes) {
      FloatVector q = normalized(shape, src, scales, scale, off + k);
      IntVector c = zeroScales(shape, countBelow(shape, q), scales, off + k);
      SimdCodes.store(shape, c, codes, bits, first + k);
    }
  }

  private void encodeBuckets(
      SimdShape shape, float[] src, float[] scales, float scale, int off, int bound,
      MemorySegment codes, long first, int[] index) {
    int lanes = shape.floats().length();
    for (int k = 0; k < bound; k += lanes) {
      FloatVector q = normalized(shape, src, scales, scale, off + k);
      IntVector c = zeroScales(shape, bucketLookup(shape, q, index, k), scales, off + k);
      SimdCodes.store(shape, c, codes, bits, first + k);
    }
  }

  private void encodeSearch(
      SimdShape shape, float[] src, float[] scales, float scale, int off, int bound,
      MemorySegment codes, long first, int[] index) {
    int lanes = shape.floats().length();
    for (int k = 0; k < bound; k += lanes) {
      FloatVector q = normalized(shape, src, scales, scale, off + k);
      IntVector c = zeroScales(shape, gatherSearch(shape, q, index, k), scales, off + k);
      SimdCodes.store(shape, c, codes, bits, first + k);
    }
  }

  /** Four steps of a branch-free binary search over 16 slots (15 midpoints and a +inf pad). */
  private IntVector registerSearch(SimdShape shape, FloatVector q) {
    VectorSpecies<Integer> ints = shape.ints();
    IntVector code = IntVector.zero(ints);
    code = searchStep(shape, q, code, 8);
    code = searchStep(shape, q, code, 4);
    code = searchStep(shape, q, code, 2);
    return searchStep(shape, q, code, 1);
  }

  private IntVector searchStep(SimdShape shape, FloatVector q, IntVector code, int step) {
    FloatVector probe = permute(shape, code.add(step - 1), midpointBits).reinterpretAsFloats();
    return code.add(step, probe.compare(VectorOperators.LT, q).cast(shape.ints()));
  }

  /** Counts the midpoints below each lane (narrow vectors, where a 16-entry permute is not one instruction). */
  private IntVector countBelow(SimdShape shape, FloatVector q) {
    IntVector code = IntVector.zero(shape.ints());
    for (int m = 0; m < book.size() - 1; m++) {
      code = code.add(1, q.compare(VectorOperators.GT, midpoints[m]).cast(shape.ints()));
    }
    return code;
  }

  private IntVector bucketLookup(SimdShape shape, FloatVector q, int[] index, int k) {
    VectorSpecies<Integer> ints = shape.ints();
    IntVector raw = q.reinterpretAsInts();
    IntVector magnitude =
        signedKeys ? raw.and(0x7FFFFFFF) : raw.lanewise(VectorOperators.MAX, 0);
    IntVector key =
        magnitude
            .lanewise(VectorOperators.LSHR, shift)
            .sub(base)
            .lanewise(VectorOperators.MAX, 0)
            .lanewise(VectorOperators.MIN, buckets - 1);
    if (signedKeys) {
      // Negative values use the second half of the table.
      key = key.add(raw.lanewise(VectorOperators.ASHR, 31).and(buckets));
    }
    key.intoArray(index, k);
    IntVector low = IntVector.fromArray(ints, lowCodes, 0, index, k);
    low.intoArray(index, k);
    FloatVector boundary = FloatVector.fromArray(shape.floats(), midpoints, 0, index, k);
    VectorMask<Float> above = boundary.compare(VectorOperators.LT, q);
    VectorMask<Float> nan = q.test(VectorOperators.IS_NAN);
    return low.add(1, above.cast(ints)).blend(0, nan.cast(ints));
  }

  /** Eight gathered steps of a branch-free binary search over 256 slots. */
  private IntVector gatherSearch(SimdShape shape, FloatVector q, int[] index, int k) {
    VectorSpecies<Integer> ints = shape.ints();
    IntVector code = IntVector.zero(ints);
    for (int step = 128; step >= 1; step >>= 1) {
      code.add(step - 1).intoArray(index, k);
      FloatVector probe = FloatVector.fromArray(shape.floats(), midpoints, 0, index, k);
      code = code.add(step, probe.compare(VectorOperators.LT, q).cast(ints));
    }
    return code;
  }

  private static int[] floatBits(float[] values) {
    int[] out = new int[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = Float.floatToRawIntBits(values[i]);
    }
    return out;
  }

  /**
   * The exponent-and-mantissa bucket table of a book: bucket {@code b} holds the floats whose
   * magnitude bits shifted right by {@code shift} equal {@code base + b} (clamped at both ends);
   * {@code lowCodes[b]} is {@code encode} of the bucket's lowest float. Negative floats use a
   * second half, unless every midpoint is positive, in which case all of them encode to 0 and
   * share bucket 0 with {@code +0}.
   */
  private record BucketTable(int shift, int base, int buckets, boolean signedKeys, int[] lowCodes) {

    static BucketTable build(CodeBook book) {
      float[] mids = book.midpoints();
      float minAbs = Float.POSITIVE_INFINITY;
      float maxAbs = 0f;
      for (float m : mids) {
        if (m != 0f) {
          minAbs = Math.min(minAbs, Math.abs(m));
        }
        maxAbs = Math.max(maxAbs, Math.abs(m));
      }
      boolean signedKeys = !(mids[0] > 0f);
      int lowBits =
          minAbs == Float.POSITIVE_INFINITY
              ? Float.floatToRawIntBits(1f)
              : Float.floatToRawIntBits(Math.scalb(1f, Math.getExponent(minAbs)));
      int highBits = Float.floatToRawIntBits(Math.max(maxAbs, Float.MIN_VALUE));
      for (int mantissaBits = 0; mantissaBits <= 12; mantissaBits++) {
        int shift = 23 - mantissaBits;
        int base = lowBits >>> shift;
        int buckets = (highBits >>> shift) - base + 1;
        if (buckets > MAX_BUCKETS) {
          return null;
        }
        int[] low = new int[signedKeys ? 2 * buckets : buckets];
        if (fill(book, shift, base, buckets, signedKeys, low)) {
          return new BucketTable(shift, base, buckets, signedKeys, low);
        }
      }
      return null;
    }

    /** Fills {@code low}; false if some bucket spans more than one midpoint. */
    private static boolean fill(
        CodeBook book, int shift, int base, int buckets, boolean signedKeys, int[] low) {
      for (int b = 0; b < buckets; b++) {
        float bottom = b == 0 ? 0f : Float.intBitsToFloat((base + b) << shift);
        float top =
            b == buckets - 1
                ? Float.POSITIVE_INFINITY
                : Float.intBitsToFloat(((base + b + 1) << shift) - 1);
        int lo = book.encode(bottom);
        if (book.encode(top) - lo > 1) {
          return false;
        }
        low[b] = lo;
        if (signedKeys) {
          float negBottom = -top;
          float negTop = b == 0 ? -0f : -bottom;
          int nlo = book.encode(negBottom);
          if (book.encode(negTop) - nlo > 1) {
            return false;
          }
          low[buckets + b] = nlo;
        }
      }
      return true;
    }
  }
}
