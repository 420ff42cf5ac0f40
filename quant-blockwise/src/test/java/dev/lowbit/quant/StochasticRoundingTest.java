package dev.lowbit.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.FloatRange;

/** Stochastic rounding: reproducible from the seed whatever the split, and unbiased. */
class StochasticRoundingTest {
  private static final int LENGTH = 64 * 1024 + 17;
  private static final int BLOCK = 256;

  @Example
  void sameSeedSameCodesDifferentSeedDifferentCodes() {
    float[] x = gaussian(LENGTH, 3);
    assertArrayEquals(codes(x, 11), codes(x, 11));
    assertFalse(Arrays.equals(codes(x, 11), codes(x, 12)));
    assertFalse(Arrays.equals(codes(x, 11), nearestCodes(x)));
  }

  /** Blocks quantized by several threads, in any order, give the bytes of one whole pass. */
  @Example
  void anySplitAcrossThreadsGivesTheSameBytes() {
    float[] x = gaussian(LENGTH, 5);
    Rounding rounding = Rounding.stochastic(99);
    long blocks = Normalization.blockWise(BLOCK).blockCount(LENGTH);
    for (int chunk : new int[] {1, 3, 64}) {
      MemorySegment codes = MemorySegment.ofArray(new byte[LENGTH]);
      MemorySegment scales = MemorySegment.ofArray(new float[(int) blocks]);
      MemorySegment src = MemorySegment.ofArray(x);
      int chunks = (int) ((blocks + chunk - 1) / chunk);
      IntStream.range(0, chunks)
          .parallel()
          .map(k -> chunks - 1 - k)
          .forEach(
              k ->
                  BlockwiseQuantizer.quantizeBlocks(
                      CodeBook.DYNAMIC_SIGNED_8, BLOCK, src, LENGTH, codes, scales,
                      (long) k * chunk, Math.min(chunk, blocks - (long) k * chunk), rounding));
      assertArrayEquals(codes(x, 99), codes.toArray(ValueLayout.JAVA_BYTE), "chunks of " + chunk);
    }
  }

  /**
   * The mean of many stochastically rounded copies of x equals x: the expected decoded value is
   * x, so the mean misses it by at most 5 standard errors of the Bernoulli draw (plus float noise).
   */
  @Property(tries = 40)
  void unbiasedOnAverage(@ForAll @FloatRange(min = -1f, max = 1f) float x) {
    for (CodeBook book : new CodeBook[] {CodeBook.DE_SIGNED_4, CodeBook.DYNAMIC_SIGNED_8}) {
      int n = 32 * 1024;
      float[] src = new float[n];
      Arrays.fill(src, x);
      // A 1 at the start of every block pins the scale to 1, so the normalized value is x.
      for (int i = 0; i < n; i += 128) {
        src[i] = 1f;
      }
      QuantizedTensor q = QuantizedTensor.allocate(book, Normalization.blockWise(128), n);
      q.quantize(MemorySegment.ofArray(src), Rounding.stochastic(Float.floatToIntBits(x)));
      float[] y = q.dequantize();
      double sum = 0;
      int count = 0;
      for (int i = 0; i < n; i++) {
        if (i % 128 != 0) {
          sum += y[i];
          count++;
        }
      }
      double mean = sum / count;
      // Outside the table (below de-signed-4's -0.8875, say) every copy goes to the end entry.
      double expected = Math.clamp(x, book.value(0), book.value(book.size() - 1));
      double[] bracket = bracket(book, expected);
      double gap = bracket[1] - bracket[0];
      double p = gap == 0 ? 0 : (expected - bracket[0]) / gap;
      double standardError = gap * Math.sqrt(p * (1 - p) / count);
      assertEquals(expected, mean, 5 * standardError + 1e-6, book.name() + " at " + x);
    }
  }

  @Example
  void valuesOnAnEntryNeverMove() {
    CodeBook book = CodeBook.LINEAR_4;
    for (int code = 0; code < book.size(); code++) {
      for (long i = 0; i < 1000; i++) {
        assertEquals(code, Rounding.stochastic(i).encode(book, book.value(code), i));
      }
    }
    // Below the table: the first entry; above: the last.
    assertEquals(0, Rounding.stochastic(1).encode(book, 0f, 0));
    assertEquals(0, Rounding.stochastic(1).encode(CodeBook.DE_SIGNED_4, -1f, 0));
  }

  /**
   * Between the first two entries too, x rounds up with probability (x - lo) / (hi - lo): here a
   * quarter, so about 2500 of 10000 elements, within 5 standard errors of the Bernoulli draw.
   */
  @Example
  void theFirstGapRoundsUpInProportion() {
    for (CodeBook book : new CodeBook[] {CodeBook.LINEAR_4, CodeBook.DE_SIGNED_4}) {
      float lo = book.value(0);
      float hi = book.value(1);
      float x = lo + 0.25f * (hi - lo);
      double p = (x - lo) / (double) (hi - lo);
      int n = 10_000;
      int up = 0;
      for (long i = 0; i < n; i++) {
        int code = Rounding.stochastic(7).encode(book, x, i);
        assertTrue(code == 0 || code == 1, book.name() + ": code " + code + " at " + i);
        up += code;
      }
      assertEquals(p * n, up, 5 * Math.sqrt(n * p * (1 - p)), book.name());
    }
  }

  @Example
  void uniformIsInTheUnitInterval() {
    for (long i = 0; i < 100_000; i++) {
      float u = Rounding.Stochastic.uniform(42, i);
      assertTrue(u >= 0f && u < 1f, "u = " + u);
    }
  }

  /**
   * The generator is the one the javadoc names: SplitMix64's finalizer of {@code mix64(seed) +
   * index * golden gamma}, top 24 bits. That is exactly the stream of {@link SplittableRandom}
   * (Steele, Lea and Flood's SplitMix) seeded with {@code mix64(seed)}: its k-th {@code nextLong}
   * is {@code mix64(state + k * gamma)}. The JDK class is anchored to the SplitMix64 reference
   * (splitmix64.c, seed 1234567) first, so the oracle does not share code with LowBit. Pinning the
   * stream keeps stochastic codes reproducible across versions, not just within one run.
   */
  @Example
  void uniformIsTheDocumentedSplitMix64Stream() {
    assertEquals("6457827717110365317",
        Long.toUnsignedString(new SplittableRandom(1234567L).nextLong()));
    long gamma = 0x9E3779B97F4A7C15L;
    for (long seed : new long[] {0, 1, 42, -7, Long.MAX_VALUE}) {
      // mix64(x) is the first nextLong of a SplittableRandom whose state is x - gamma.
      long mixedSeed = new SplittableRandom(seed - gamma).nextLong();
      SplittableRandom stream = new SplittableRandom(mixedSeed);
      for (long index = 1; index <= 1000; index++) {
        float expected = (stream.nextLong() >>> 40) * 0x1.0p-24f;
        assertEquals(
            expected, Rounding.Stochastic.uniform(seed, index), "seed " + seed + " index " + index);
      }
      long atZero = new SplittableRandom(mixedSeed - gamma).nextLong();
      assertEquals((atZero >>> 40) * 0x1.0p-24f, Rounding.Stochastic.uniform(seed, 0));
    }
  }

  private static double[] bracket(CodeBook book, double x) {
    float[] v = book.values();
    int k = 0;
    while (k + 1 < v.length && v[k + 1] <= x) {
      k++;
    }
    return k + 1 < v.length ? new double[] {v[k], v[k + 1]} : new double[] {v[k], v[k]};
  }

  private static byte[] codes(float[] x, long seed) {
    QuantizedTensor q =
        QuantizedTensor.allocate(
            CodeBook.DYNAMIC_SIGNED_8, Normalization.blockWise(BLOCK), x.length);
    q.quantize(MemorySegment.ofArray(x), Rounding.stochastic(seed));
    return q.codes().toArray(ValueLayout.JAVA_BYTE);
  }

  private static byte[] nearestCodes(float[] x) {
    QuantizedTensor q =
        QuantizedTensor.allocate(
            CodeBook.DYNAMIC_SIGNED_8, Normalization.blockWise(BLOCK), x.length);
    q.quantize(x);
    return q.codes().toArray(ValueLayout.JAVA_BYTE);
  }

  static float[] gaussian(int n, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = (float) random.nextGaussian();
    }
    return x;
  }
}
