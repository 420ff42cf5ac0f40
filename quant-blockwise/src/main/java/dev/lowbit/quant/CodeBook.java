package dev.lowbit.quant;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A quantization map: a sorted, immutable table of at most {@code 2^bits} float values in
 * [-1, 1] (signed) or [0, 1] (unsigned).
 *
 * <p>A value {@code x} already divided by its scale is stored as the index of the nearest entry
 * ({@link #encode(float)}); decoding is {@code value(code) * scale}.
 *
 * <p><b>Rounding rule.</b> {@code encode(x)} is the number of midpoints strictly below {@code x},
 * where {@code midpoint(k)} is the exact midpoint of entries {@code k} and {@code k + 1} rounded
 * to float. So {@code x} goes to the nearest entry, and an {@code x} that falls exactly on a
 * midpoint goes to the <em>lower</em> entry (ties round down). {@code +0.0} and {@code -0.0}
 * encode alike. Because every midpoint between a negative and a non-negative entry is negative
 * (and vice versa), a signed book never flips the sign of a value: a positive input decodes to a
 * value {@code >= 0}, a negative one to a value {@code <= 0}. Inputs outside the table's range
 * go to the first or last entry. Every table is checked for these promises when the book is built
 * ({@link #of} says what it refuses): each entry encodes to itself, and a signed book has a 0
 * entry, so that both zeros encode to 0.
 *
 * <p>The dynamic ("dynamic tree") and DE books are built by {@link #dynamic}, the generator of
 * "8-bit Optimizers via Block-wise Quantization", in double precision and rounded to float once.
 */
public final class CodeBook {

  /** Dynamic tree, signed, 8 bits: 8-bit first moment and momentum. 256 values, +1 but no -1. */
  public static final CodeBook DYNAMIC_SIGNED_8 = dynamic("dynamic-signed-8", true, 7, 8);

  /**
   * Dynamic tree, unsigned, 8 bits (the 8-bit Optimizers paper's second-moment map). Smallest
   * non-zero entry 3.25e-7. It contains 0, so LowBit's 8-bit presets use
   * {@link #DYNAMIC0_UNSIGNED_8} for the second moment instead.
   */
  public static final CodeBook DYNAMIC_UNSIGNED_8 = dynamic("dynamic-unsigned-8", false, 7, 8);

  /**
   * Dynamic unsigned 8 without its zero: 255 entries, smallest 3.25e-7. The 8-bit second moment:
   * a second-moment map must not decode a non-zero {@code v} to 0, or an element whose gradient
   * then turns exactly 0 (a dead ReLU unit) gets the update {@code lr * m / eps}
   * (docs/algorithms.md section 1, the zero-point problem; measured as NaN within 30 steps on the
   * Fashion-MNIST MLP).
   */
  public static final CodeBook DYNAMIC0_UNSIGNED_8 =
      withoutZero("dynamic0-unsigned-8", DYNAMIC_UNSIGNED_8);

  /**
   * Dynamic exponent (DE), signed, 4 bits: the 4-bit paper's first-moment map. It has +1 but no
   * -1 (its most negative entry is -0.8875), so LowBit's 4-bit presets use {@link #DE1_SIGNED_4}.
   */
  public static final CodeBook DE_SIGNED_4 = dynamic("de-signed-4", true, 3, 4);

  /**
   * DE signed 4 with -1 in place of -0.8875: the 4-bit first moment and momentum (default). A
   * block's largest magnitude normalizes to exactly +1 or -1; with {@link #DE_SIGNED_4} a negative
   * one is stored as -0.8875, so every re-quantization of a block led by a negative value shrinks
   * that value by 11%: a bias towards 0 that compounds over the steps (4-bit AdamW ended 1.9%
   * above float32 on the least-squares test with it, 0.04% with this map). With both ends the
   * decoded block re-quantizes to the same codes.
   */
  public static final CodeBook DE1_SIGNED_4 = withMinusOne("de1-signed-4", DE_SIGNED_4);

  /** DE, unsigned, 4 bits. Contains zero, so it is for ablations only (the zero-point problem). */
  public static final CodeBook DE_UNSIGNED_4 = dynamic("de-unsigned-4", false, 3, 4);

  /** DE unsigned 4 without its zero: 15 entries, smallest 0.00325. Second moment, ablation. */
  public static final CodeBook DE0_UNSIGNED_4 = withoutZero("de0-unsigned-4", DE_UNSIGNED_4);

  /** Linear without zero, 4 bits: {@code T(i) = (i + 1) / 16}. The default 4-bit second moment. */
  public static final CodeBook LINEAR_4 = linearNoZero("linear-4", 4);

  /**
   * Linear-square, signed, 4 bits: {@code d = linspace(-1, 1, 16)}, {@code d[7] = 0},
   * {@code T = sign(d) * d^2}. Used for 4-bit Shampoo eigenvectors.
   */
  public static final CodeBook LINEAR_SQUARE_SIGNED_4 =
      linearSquareSigned("linear-square-signed-4");

  /**
   * Linear, signed, 8 bits: {@code linspace(-1, 1, 255)}, which contains an exact 0 (one of the
   * 256 codes is unused). Ablation baseline.
   */
  public static final CodeBook LINEAR_SIGNED_8 = linspace("linear-signed-8", 8, -1.0, 255);

  /** Linear, unsigned, 8 bits: {@code linspace(0, 1, 256)}. Ablation baseline. */
  public static final CodeBook LINEAR_UNSIGNED_8 = linspace("linear-unsigned-8", 8, 0.0, 256);

  private static final List<CodeBook> ALL =
      List.of(
          DYNAMIC_SIGNED_8,
          DYNAMIC_UNSIGNED_8,
          DYNAMIC0_UNSIGNED_8,
          DE_SIGNED_4,
          DE1_SIGNED_4,
          DE_UNSIGNED_4,
          DE0_UNSIGNED_4,
          LINEAR_4,
          LINEAR_SQUARE_SIGNED_4,
          LINEAR_SIGNED_8,
          LINEAR_UNSIGNED_8);

  private final String name;
  private final int bits;
  private final boolean signed;
  private final float[] values;
  private final float[] midpoints;

  private CodeBook(String name, int bits, float[] values) {
    if (bits != 4 && bits != 8) {
      throw new IllegalArgumentException(
          "code book " + name + ": bits must be 4 or 8, got " + bits);
    }
    if (values.length < 2 || values.length > (1 << bits)) {
      throw new IllegalArgumentException(
          "code book " + name + ": needs 2.." + (1 << bits) + " values, got " + values.length);
    }
    for (int i = 0; i < values.length; i++) {
      float v = values[i];
      if (!(v >= -1f && v <= 1f)) {
        throw new IllegalArgumentException(
            "code book " + name + ": value " + v + " at index " + i + " is outside [-1, 1]");
      }
      if (i > 0 && !(values[i - 1] < v)) {
        throw new IllegalArgumentException(
            "code book " + name + ": values must be strictly increasing, index " + i);
      }
    }
    this.name = name;
    this.bits = bits;
    this.signed = values[0] < 0f;
    this.values = values;
    this.midpoints = new float[values.length - 1];
    for (int k = 0; k < midpoints.length; k++) {
      midpoints[k] = (float) (((double) values[k] + values[k + 1]) / 2.0);
    }
    checkRoundingRule();
  }

  /**
   * Fails unless the table keeps the promises of the class javadoc: every entry encodes to
   * itself (entries one float apart do not: their midpoint can round onto the upper one), and a
   * signed book has a zero entry whose neighbouring midpoints are strictly negative and strictly
   * positive, so that both zeros encode to it and no value changes sign.
   */
  private void checkRoundingRule() {
    int zero = -1;
    for (int k = 0; k < values.length; k++) {
      if (Float.floatToRawIntBits(values[k]) == Float.floatToRawIntBits(-0f)) {
        throw new IllegalArgumentException(
            "code book " + name + ": value -0.0 at index " + k + "; use +0.0");
      }
      if (values[k] == 0f) {
        zero = k;
      }
      if (encode(values[k]) != k) {
        throw new IllegalArgumentException(
            "code book " + name + ": value " + values[k] + " at index " + k
                + " is too close to value " + values[k - 1] + " at index " + (k - 1)
                + ": their midpoint rounds to " + midpoints[k - 1]
                + " in float, so the entry would not encode to itself");
      }
    }
    if (!signed) {
      return;
    }
    if (zero < 0) {
      throw new IllegalArgumentException(
          "code book " + name + ": a signed book must contain 0, or a value near 0 encodes to an"
              + " entry of the other sign");
    }
    // midpoints[zero - 1] < 0 holds: 0 encodes to itself. The one above must be > 0, not 0.
    if (zero < midpoints.length && !(midpoints[zero] > 0f)) {
      throw new IllegalArgumentException(
          "code book " + name + ": value " + values[zero + 1] + " at index " + (zero + 1)
              + " is too close to 0: their midpoint rounds to 0 in float");
    }
  }

  /**
   * Builds a code book from explicit values.
   *
   * @param name a short, stable name (it is written into checkpoints)
   * @param bits 4 or 8: the width of one stored code
   * @param values strictly increasing values in [-1, 1], 2 to {@code 2^bits} of them, such that
   *     the rounding rule of the class javadoc holds: each entry encodes to itself (no two entries
   *     so close that their float midpoint rounds onto the upper one), no {@code -0.0}, and, if a
   *     value is negative, a {@code 0} entry whose float midpoints with its neighbours are not 0
   * @return the code book
   * @throws IllegalArgumentException if the values break any of these rules (the message names
   *     the rule and the index)
   */
  public static CodeBook of(String name, int bits, float[] values) {
    Objects.requireNonNull(name, "name");
    return new CodeBook(name, bits, Objects.requireNonNull(values, "values").clone());
  }

  /**
   * The dynamic-tree generator ("8-bit Optimizers via Block-wise Quantization"). For exponent
   * level {@code i = 0 .. exponentLevels-1}, it takes the midpoints of
   * {@code linspace(0.1, 1, n + 1)} scaled by {@code 10^(i - exponentLevels + 1)}, where
   * {@code n = 2^(i + bits - 1 - exponentLevels)} for a signed book (each value also with a minus
   * sign) and twice that for an unsigned one; then it adds 0 and 1. Computed in double, rounded
   * to float once.
   *
   * @param name the book's name
   * @param signed whether negative values are included
   * @param exponentLevels the number of decades (7 for the 8-bit books, 3 for the 4-bit DE books)
   * @param bits total bits of a code (4 or 8)
   * @return the code book
   * @throws IllegalArgumentException if {@code bits} is not 4 or 8, or {@code exponentLevels} is
   *     not in {@code 1 .. bits - 1}
   */
  public static CodeBook dynamic(String name, boolean signed, int exponentLevels, int bits) {
    Objects.requireNonNull(name, "name");
    if (bits != 4 && bits != 8) {
      throw new IllegalArgumentException(
          "code book " + name + ": bits must be 4 or 8, got " + bits);
    }
    int nonSignBits = bits - 1;
    if (exponentLevels < 1 || exponentLevels > nonSignBits) {
      throw new IllegalArgumentException(
          "code book " + name + ": exponentLevels must be in 1.." + nonSignBits + ", got "
              + exponentLevels);
    }
    double[] raw = new double[1 << bits];
    int count = 0;
    for (int i = 0; i < exponentLevels; i++) {
      int means = 1 << (i + nonSignBits - exponentLevels + (signed ? 0 : 1));
      double decade = Math.pow(10.0, i - (exponentLevels - 1));
      double step = 0.9 / means;
      for (int k = 0; k < means; k++) {
        double lo = 0.1 + k * step;
        double hi = (k + 1 == means) ? 1.0 : 0.1 + (k + 1) * step;
        double mean = decade * ((lo + hi) / 2.0);
        raw[count++] = mean;
        if (signed) {
          raw[count++] = -mean;
        }
      }
    }
    raw[count++] = 0.0;
    raw[count++] = 1.0;
    double[] used = Arrays.copyOf(raw, count);
    Arrays.sort(used);
    return new CodeBook(name, bits, toFloats(used));
  }

  private static CodeBook withoutZero(String name, CodeBook book) {
    float[] kept = new float[book.values.length - 1];
    int n = 0;
    for (float v : book.values) {
      if (v != 0f) {
        kept[n++] = v;
      }
    }
    return new CodeBook(name, book.bits, Arrays.copyOf(kept, n));
  }

  /** The book with its most negative entry replaced by -1. */
  private static CodeBook withMinusOne(String name, CodeBook book) {
    float[] values = book.values.clone();
    values[0] = -1f;
    return new CodeBook(name, book.bits, values);
  }

  private static CodeBook linearNoZero(String name, int bits) {
    int size = 1 << bits;
    double[] v = new double[size];
    for (int i = 0; i < size; i++) {
      v[i] = (i + 1) / (double) size;
    }
    return new CodeBook(name, bits, toFloats(v));
  }

  private static CodeBook linearSquareSigned(String name) {
    double[] d = linspaceDoubles(-1.0, 1.0, 16);
    d[7] = 0.0;
    double[] v = new double[16];
    for (int i = 0; i < 16; i++) {
      v[i] = Math.signum(d[i]) * d[i] * d[i];
    }
    return new CodeBook(name, 4, toFloats(v));
  }

  private static CodeBook linspace(String name, int bits, double start, int count) {
    return new CodeBook(name, bits, toFloats(linspaceDoubles(start, 1.0, count)));
  }

  private static double[] linspaceDoubles(double start, double stop, int count) {
    double[] v = new double[count];
    double step = (stop - start) / (count - 1);
    for (int i = 0; i < count; i++) {
      v[i] = start + i * step;
    }
    v[count - 1] = stop;
    // An odd count has an exact centre; keep it an exact zero for symmetric ranges.
    if (count % 2 == 1 && start == -stop) {
      v[count / 2] = 0.0;
    }
    return v;
  }

  private static float[] toFloats(double[] v) {
    float[] f = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      f[i] = (float) v[i];
    }
    return f;
  }

  /**
   * Every built-in code book, in a fixed order.
   *
   * @return the built-in books
   */
  public static List<CodeBook> builtIns() {
    return ALL;
  }

  /**
   * Looks a built-in code book up by {@link #name()}.
   *
   * @param name the book's name, for example {@code "dynamic-signed-8"}
   * @return the book
   * @throws IllegalArgumentException if no built-in book has that name
   */
  public static CodeBook byName(String name) {
    for (CodeBook book : ALL) {
      if (book.name.equals(name)) {
        return book;
      }
    }
    throw new IllegalArgumentException(
        "unknown code book '" + name + "'; known: " + ALL.stream().map(CodeBook::name).toList());
  }

  /**
   * The book's stable name, as written into checkpoints.
   *
   * @return the name
   */
  public String name() {
    return name;
  }

  /**
   * Bits per stored code: 4 (two codes per byte) or 8.
   *
   * @return 4 or 8
   */
  public int bits() {
    return bits;
  }

  /**
   * Whether the book holds negative values.
   *
   * @return true for a signed book
   */
  public boolean signed() {
    return signed;
  }

  /**
   * Number of entries (at most {@code 2^bits}).
   *
   * @return the table size
   */
  public int size() {
    return values.length;
  }

  /**
   * Whether 0 is an entry. A second-moment book must not contain zero (docs/algorithms.md, the
   * zero-point problem).
   *
   * @return true if some entry equals 0
   */
  public boolean containsZero() {
    return Arrays.binarySearch(values, 0f) >= 0;
  }

  /**
   * The entry at {@code code}.
   *
   * @param code an index in {@code [0, size())}
   * @return the table value
   */
  public float value(int code) {
    return values[code];
  }

  /**
   * A copy of the table, in index order.
   *
   * @return the values
   */
  public float[] values() {
    return values.clone();
  }

  /**
   * The rounding boundary between entries {@code k} and {@code k + 1}: their exact midpoint
   * rounded to float.
   *
   * @param k an index in {@code [0, size() - 1)}
   * @return the midpoint
   */
  public float midpoint(int k) {
    return midpoints[k];
  }

  /**
   * A copy of all {@code size() - 1} midpoints, in index order.
   *
   * @return the midpoints
   */
  public float[] midpoints() {
    return midpoints.clone();
  }

  /**
   * Nearest-entry code of a normalized value: the number of midpoints strictly below {@code x}
   * (ties go to the lower entry). The caller guarantees {@code x} is not NaN.
   *
   * @param x the value divided by its scale
   * @return the code, in {@code [0, size())}
   */
  public int encode(float x) {
    int lo = 0;
    int hi = midpoints.length;
    // Invariant: midpoints[0 .. lo) < x and midpoints[hi ..) >= x.
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (midpoints[mid] < x) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  /**
   * Decodes one code with its scale: {@code value(code) * scale}.
   *
   * @param code the stored code
   * @param scale the block's (or element's) scale
   * @return the decoded value
   */
  public float decode(int code, float scale) {
    return values[code] * scale;
  }

  @Override
  public String toString() {
    return name + " (" + bits + "-bit, " + values.length + " values)";
  }
}
