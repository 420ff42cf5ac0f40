package dev.lowbit.quant;

/**
 * How a normalized value (already divided by its scale) becomes a code.
 *
 * <ul>
 *   <li>{@link #NEAREST}: {@link CodeBook#encode(float)}: the nearest entry, ties to the lower one.
 *   <li>{@link #stochastic(long)}: between the entries {@code lo <= x < hi} that bracket
 *       {@code x}, round up with probability {@code (x - lo) / (hi - lo)}, so that the expected
 *       decoded value is {@code x}. The random number of element {@code i} is a stateless hash of
 *       {@code (seed, i)}, so the same seed gives the same codes whatever the thread count or the
 *       order in which blocks are processed. Values outside the table go to its first or last
 *       entry.
 * </ul>
 */
public sealed interface Rounding permits Rounding.Nearest, Rounding.Stochastic {

  /** Nearest-entry rounding with ties to the lower entry (the default). */
  Rounding NEAREST = new Nearest();

  /**
   * Stochastic rounding from a counter-based generator.
   *
   * @param seed the seed; equal seeds give equal codes
   * @return the rounding
   */
  static Rounding stochastic(long seed) {
    return new Stochastic(seed);
  }

  /**
   * The code of one normalized value.
   *
   * @param book the code book
   * @param x the value divided by its scale (finite)
   * @param index the element's index in the flattened tensor (the stochastic counter)
   * @return the code, in {@code [0, book.size())}
   */
  int encode(CodeBook book, float x, long index);

  /** Nearest-entry rounding: {@link CodeBook#encode(float)}. */
  record Nearest() implements Rounding {
    @Override
    public int encode(CodeBook book, float x, long index) {
      return book.encode(x);
    }
  }

  /**
   * Stochastic rounding, unbiased between the two bracketing entries.
   *
   * @param seed the generator's seed
   */
  record Stochastic(long seed) implements Rounding {
    private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

    @Override
    public int encode(CodeBook book, float x, long index) {
      int lo = floorIndex(book, x);
      if (lo < 0) {
        return 0;
      }
      if (lo == book.size() - 1) {
        return lo;
      }
      float low = book.value(lo);
      float probabilityUp = (x - low) / (book.value(lo + 1) - low);
      return uniform(seed, index) < probabilityUp ? lo + 1 : lo;
    }

    /**
     * A uniform float in {@code [0, 1)} (24 random bits) for element {@code index}: SplitMix64's
     * finalizer applied to the mixed seed plus {@code index} times the golden gamma.
     *
     * @param seed the seed
     * @param index the counter
     * @return the random number
     */
    public static float uniform(long seed, long index) {
      long z = mix64(mix64(seed) + index * GOLDEN_GAMMA);
      return (z >>> 40) * 0x1.0p-24f;
    }

    private static long mix64(long z) {
      z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
      z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
      return z ^ (z >>> 31);
    }

    /** Index of the largest entry {@code <= x}, or -1 if every entry is above {@code x}. */
    private static int floorIndex(CodeBook book, float x) {
      int lo = 0;
      int hi = book.size();
      // Invariant: value[0 .. lo) <= x and value[hi ..) > x.
      while (lo < hi) {
        int mid = (lo + hi) >>> 1;
        if (book.value(mid) <= x) {
          lo = mid + 1;
        } else {
          hi = mid;
        }
      }
      return lo - 1;
    }
  }
}
