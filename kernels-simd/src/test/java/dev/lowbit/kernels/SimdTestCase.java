package dev.lowbit.kernels;

import static org.junit.jupiter.api.Assertions.fail;

import dev.lowbit.quant.CodeBook;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One kernel call's inputs, built twice with identical bytes so that {@link ScalarKernels} (the
 * reference) runs on one copy and {@link SimdKernels} on the other; then every output byte is
 * compared. States are random but valid (codes inside the book, non-negative scales, some all-zero
 * blocks), in heap or native segments.
 */
final class SimdTestCase {

  /** A moment format. */
  record Spec(String kind, CodeBook book, int blockSize) {
    static Spec fp32() {
      return new Spec("fp32", null, 0);
    }

    static Spec blockwise(CodeBook book, int blockSize) {
      return new Spec("blockwise", book, blockSize);
    }

    static Spec rank1(CodeBook book) {
      return new Spec("rank1", book, 0);
    }

    static Spec factorized() {
      return new Spec("factorized", null, 0);
    }

    /**
     * A seed part for cases of this format, the same in every JVM: {@link #hashCode} is not, as
     * it hashes the code book by identity, so a failing case would not come back on a rerun.
     */
    long seed() {
      return toString().hashCode();
    }

    @Override
    public String toString() {
      return switch (kind) {
        case "blockwise" -> book.name() + "/B" + blockSize;
        case "rank1" -> book.name() + "/rank1";
        default -> kind;
      };
    }
  }

  /** How the inputs are filled. */
  enum Fill {
    /** Gaussian gradients and moments, some exact zeros and signed zeros. */
    RANDOM,
    /**
     * Gradients that are power-of-two multiples of code-book midpoints, so that with
     * {@code beta1 = 0} (or SGD's first step) the new moment divided by its scale lands exactly on
     * midpoints; plus all-zero blocks.
     */
    BOUNDARY,
    /**
     * Random, plus some gradients whose square overflows: v becomes infinite, block scales
     * infinite, and {@code x / scale} NaN, which both implementations must encode alike.
     */
    OVERFLOW
  }

  final int length;
  final long batch;
  final long rows;
  final long cols;
  final MemorySegment param;
  final MemorySegment grad;
  final MemorySegment[] mSegments;
  final MemorySegment[] vSegments;
  final MomentState m;
  final MomentState v;

  private SimdTestCase(
      int length, long batch, long rows, long cols, MemorySegment param, MemorySegment grad,
      MemorySegment[] mSegments, MemorySegment[] vSegments, MomentState m, MomentState v) {
    this.length = length;
    this.batch = batch;
    this.rows = rows;
    this.cols = cols;
    this.param = param;
    this.grad = grad;
    this.mSegments = mSegments;
    this.vSegments = vSegments;
    this.m = m;
    this.v = v;
  }

  /**
   * Builds a case; calling it twice with the same arguments gives identical bytes.
   *
   * @param length elements
   * @param mSpec first moment (or SGD buffer) format
   * @param vSpec second moment format, or null for SGD
   * @param fill how to fill
   * @param seed random seed
   * @param arena null for heap segments, else where native segments live
   * @param boundaryBook the book whose midpoints a BOUNDARY fill targets (may be null)
   */
  static SimdTestCase build(
      int length, Spec mSpec, Spec vSpec, Fill fill, long seed, Arena arena,
      CodeBook boundaryBook) {
    long cols = columns(length);
    long rows = length / cols;
    long batch = 1;
    if (vSpec != null && vSpec.kind().equals("factorized") && rows % 2 == 0 && rows > 2) {
      batch = 2;
      rows /= 2;
    }
    return build(batch, rows, cols, mSpec, vSpec, fill, seed, arena, boundaryBook);
  }

  /**
   * Builds a case of a given shape ({@code batch x rows x cols}: the matrix view of a rank-1 or
   * factorized second moment); calling it twice with the same arguments gives identical bytes.
   *
   * @param batch matrices (factorized only; a rank-1 moment sees {@code batch * rows} rows)
   * @param rows rows per matrix
   * @param cols columns
   * @param mSpec first moment (or SGD buffer) format
   * @param vSpec second moment format, or null for SGD
   * @param fill how to fill
   * @param seed random seed
   * @param arena null for heap segments, else where native segments live
   * @param boundaryBook the book whose midpoints a BOUNDARY fill targets (may be null)
   */
  static SimdTestCase build(
      long batch, long rows, long cols, Spec mSpec, Spec vSpec, Fill fill, long seed, Arena arena,
      CodeBook boundaryBook) {
    int length = Math.toIntExact(batch * rows * cols);
    SplittableRandom random = new SplittableRandom(seed);
    float[] p = new float[length];
    float[] g = new float[length];
    for (int i = 0; i < length; i++) {
      p[i] = (float) random.nextGaussian();
      g[i] = (float) (random.nextGaussian() * 0.1);
    }
    if (fill == Fill.BOUNDARY) {
      boundaryGradients(g, boundaryBook, random);
    } else {
      sprinkleZeros(g, random);
    }
    if (fill == Fill.OVERFLOW) {
      for (int i = 3; i < length; i += 97) {
        g[i] = (i & 1) == 0 ? 3e19f : -3e19f;
      }
    }
    MemorySegment param = floats(p, arena);
    MemorySegment grad = floats(g, arena);
    List<MemorySegment> mSegs = new ArrayList<>();
    MomentState m = state(mSpec, length, batch, rows, cols, fill, random, arena, mSegs, false);
    List<MemorySegment> vSegs = new ArrayList<>();
    MomentState v =
        vSpec == null
            ? null
            : state(vSpec, length, batch, rows, cols, fill, random, arena, vSegs, true);
    return new SimdTestCase(
        length, batch, rows, cols, param, grad, mSegs.toArray(MemorySegment[]::new),
        vSegs.toArray(MemorySegment[]::new), m, v);
  }

  /** The largest divisor of {@code n} up to 97: a matrix view with odd and even column counts. */
  private static long columns(int n) {
    for (int d = Math.min(n, 97); d > 1; d--) {
      if (n % d == 0) {
        return d;
      }
    }
    return 1;
  }

  private static void boundaryGradients(float[] g, CodeBook book, SplittableRandom random) {
    float[] mids = book.midpoints();
    float[] values = book.values();
    int blockStart = 0;
    int block = 128;
    for (int i = 0; i < g.length; i++) {
      if (i % block == 0) {
        blockStart = i;
      }
      float scale = Math.scalb(1f, random.nextInt(-6, 4));
      int kind = random.nextInt(8);
      if ((i / block) % 5 == 4) {
        g[i] = (i & 1) == 0 ? 0f : -0f; // an all-zero block
      } else if (i == blockStart) {
        g[i] = scale; // the block's absmax is then a power of two times 1
      } else if (kind < 5) {
        g[i] = mids[random.nextInt(mids.length)] * scale;
      } else if (kind == 5) {
        g[i] = values[random.nextInt(values.length)] * scale;
      } else if (kind == 6) {
        float mid = mids[random.nextInt(mids.length)] * scale;
        g[i] = random.nextBoolean() ? Math.nextUp(mid) : Math.nextDown(mid);
      } else {
        g[i] = random.nextBoolean() ? 0f : -0f;
      }
    }
  }

  private static void sprinkleZeros(float[] g, SplittableRandom random) {
    for (int i = 0; i < g.length; i++) {
      int r = random.nextInt(50);
      if (r == 0) {
        g[i] = 0f;
      } else if (r == 1) {
        g[i] = -0f;
      } else if (r == 2) {
        g[i] *= 100f; // beyond a clip bound
      }
    }
  }

  private static MomentState state(
      Spec spec,
      int length,
      long batch,
      long rows,
      long cols,
      Fill fill,
      SplittableRandom random,
      Arena arena,
      List<MemorySegment> segments,
      boolean second) {
    boolean zeros = fill == Fill.BOUNDARY;
    switch (spec.kind()) {
      case "fp32" -> {
        float[] values = new float[length];
        for (int i = 0; i < length; i++) {
          double x = zeros ? 0 : random.nextGaussian() * 0.01;
          values[i] = (float) (second ? x * x : x);
        }
        MemorySegment seg = floats(values, arena);
        segments.add(seg);
        return new Fp32Moment(seg);
      }
      case "blockwise" -> {
        int blocks = (length + spec.blockSize() - 1) / spec.blockSize();
        MemorySegment codes = codes(spec.book(), length, random, arena, zeros);
        float[] scales = new float[blocks];
        for (int b = 0; b < blocks; b++) {
          scales[b] = zeros || random.nextInt(7) == 0 ? 0f : (float) random.nextDouble(1e-4, 1);
        }
        MemorySegment scaleSeg = floats(scales, arena);
        segments.add(codes);
        segments.add(scaleSeg);
        return new BlockwiseMoment(spec.book(), spec.blockSize(), codes, scaleSeg);
      }
      case "rank1" -> {
        long r = batch * rows;
        MemorySegment codes = codes(spec.book(), length, random, arena, false);
        float[] rs = new float[(int) r];
        float[] cs = new float[(int) cols];
        for (int i = 0; i < rs.length; i++) {
          rs[i] = random.nextInt(9) == 0 ? 0f : (float) random.nextDouble(1e-6, 1e-2);
        }
        for (int j = 0; j < cs.length; j++) {
          cs[j] = (float) random.nextDouble(1e-6, 1e-2);
        }
        MemorySegment rowSeg = floats(rs, arena);
        MemorySegment colSeg = floats(cs, arena);
        segments.add(codes);
        segments.add(rowSeg);
        segments.add(colSeg);
        return new Rank1Moment(spec.book(), r, cols, codes, rowSeg, colSeg);
      }
      case "factorized" -> {
        float[] rs = new float[(int) (batch * rows)];
        float[] cs = new float[(int) (batch * cols)];
        for (int i = 0; i < rs.length; i++) {
          rs[i] = (float) random.nextDouble(0, 1e-3);
        }
        for (int j = 0; j < cs.length; j++) {
          cs[j] = (float) random.nextDouble(0, 1e-3);
        }
        MemorySegment rowSeg = floats(rs, arena);
        MemorySegment colSeg = floats(cs, arena);
        segments.add(rowSeg);
        segments.add(colSeg);
        return new FactorizedMoment(batch, rows, cols, rowSeg, colSeg);
      }
      default -> throw new IllegalArgumentException(spec.kind());
    }
  }

  private static MemorySegment codes(
      CodeBook book, int length, SplittableRandom random, Arena arena, boolean zeroCode) {
    int bytes = book.bits() == 8 ? length : (length + 1) / 2;
    MemorySegment seg =
        arena == null ? MemorySegment.ofArray(new byte[bytes]) : arena.allocate(bytes);
    int zero = book.encode(0f);
    for (int i = 0; i < length; i++) {
      Codes.write(seg, book.bits(), i, zeroCode ? zero : random.nextInt(book.size()));
    }
    if (book.bits() == 4 && (length & 1) == 1) {
      // A non-zero padding nibble (a file written elsewhere): both kernels must write it as 0.
      int last = seg.get(ValueLayout.JAVA_BYTE, bytes - 1) & 0x0F;
      seg.set(ValueLayout.JAVA_BYTE, bytes - 1, (byte) (last | 0xA0));
    }
    return seg;
  }

  private static MemorySegment floats(float[] values, Arena arena) {
    if (arena == null) {
      return MemorySegment.ofArray(values.clone());
    }
    MemorySegment seg = arena.allocate((long) values.length * Float.BYTES, 64);
    MemorySegment.copy(values, 0, seg, Codes.FLOAT, 0, values.length);
    return seg;
  }

  /** What the call did to the gradient: what a difference in it means, and what it must hold. */
  enum Gradient {
    /** Only read: a difference means a kernel wrote it. */
    UNTOUCHED("gradient (must be untouched)"),
    /** Cleared in the pass: every element must end as +0.0, in both cases. */
    CLEARED("gradient (cleared in the pass)");

    private final String what;

    Gradient(String what) {
      this.what = what;
    }
  }

  /**
   * Fails with the first differing byte of any output; when the gradient was to be cleared, also
   * at its first element that is not +0.0.
   *
   * @param expected the reference's case after its call
   * @param label what ran, for the message
   * @param gradient what the call did to the gradient
   */
  void assertSameBytes(SimdTestCase expected, String label, Gradient gradient) {
    compare(expected.param, param, label + ": parameter");
    compare(expected.grad, grad, label + ": " + gradient.what);
    if (gradient == Gradient.CLEARED) {
      // Both kernels may fail to clear alike, which the comparison above cannot see.
      for (long i = 0; i < length; i++) {
        if (grad.getAtIndex(ValueLayout.JAVA_INT, i) != 0) {
          fail(label + ": gradient not cleared at " + i + " (" + grad.getAtIndex(Codes.FLOAT, i)
              + ")");
        }
      }
    }
    for (int i = 0; i < mSegments.length; i++) {
      compare(expected.mSegments[i], mSegments[i], label + ": m segment " + i);
    }
    for (int i = 0; i < vSegments.length; i++) {
      compare(expected.vSegments[i], vSegments[i], label + ": v segment " + i);
    }
  }

  private static void compare(MemorySegment expected, MemorySegment actual, String what) {
    long at = expected.mismatch(actual);
    if (at >= 0) {
      long floatIndex = at / 4;
      String detail =
          expected.byteSize() >= 4 * (floatIndex + 1) && actual.byteSize() >= 4 * (floatIndex + 1)
              ? " (as floats at index " + floatIndex + ": expected "
                  + expected.getAtIndex(Codes.FLOAT, floatIndex) + ", got "
                  + actual.getAtIndex(Codes.FLOAT, floatIndex) + ")"
              : "";
      String bytes =
          at < expected.byteSize() && at < actual.byteSize()
              ? " (bytes: expected " + expected.get(ValueLayout.JAVA_BYTE, at) + ", got "
                  + actual.get(ValueLayout.JAVA_BYTE, at) + ")"
              : " (sizes " + expected.byteSize() + " and " + actual.byteSize() + ")";
      fail(what + " differs first at byte " + at + bytes + detail);
    }
  }
}
