package dev.lowbit.kernels;

import dev.lowbit.quant.CodeBook;
import java.lang.foreign.MemorySegment;

/**
 * The reference implementation: plain Java, one element at a time, exactly the float32 formulas
 * of {@link AdamScalars} and {@link SgdScalars} and the quantization of {@link BlockwiseMoment}
 * and {@link Rank1Moment}. Every other implementation must write the same bytes.
 *
 * <p>Each step works in chunks of {@link SquareSums#CHUNK} elements (a multiple of every block
 * size): decode the old moments of the chunk into float arrays, run the update element by
 * element (writing the parameter), then store the moments (per block: new scale
 * {@code max |x|}, then the codes). Chunks are independent, so they are split over threads.
 * A rank-1 second moment first needs its new maxima ({@link Rank1Maxima}); a factorized one
 * first updates its statistics ({@link FactorizedStats}).
 */
public final class ScalarKernels implements OptimizerKernels {

  /** Creates the scalar kernels; they hold no state. */
  public ScalarKernels() {}

  @Override
  public String name() {
    return "scalar";
  }

  @Override
  public long firstBeyond(MemorySegment values, long length, float limit) {
    return firstBeyond(values, 0, length, checkLimit(limit));
  }

  /**
   * Index of the first element in {@code [from, length)} that is NaN or of magnitude above
   * {@code limit}, or -1: the scalar loop, also the SIMD implementation's tail.
   *
   * @param values the floats
   * @param from first index to check
   * @param length one past the last index
   * @param limit the largest magnitude accepted
   * @return the first bad index, or -1
   */
  static long firstBeyond(MemorySegment values, long from, long length, float limit) {
    for (long i = from; i < length; i++) {
      if (!(Math.abs(Codes.getFloat(values, i)) <= limit)) {
        return i;
      }
    }
    return -1;
  }

  /**
   * Checks a {@link #firstBeyond} limit.
   *
   * @param limit the largest magnitude to accept
   * @return the limit, a zero as +0
   * @throws IllegalArgumentException if it is negative or NaN
   */
  static float checkLimit(float limit) {
    if (!(limit >= 0f)) {
      throw new IllegalArgumentException("limit must be >= 0, got " + limit);
    }
    return Math.abs(limit); // -0 as +0, whose bits the SIMD check compares with
  }

  @Override
  public double sumOfSquares(MemorySegment values, long length, int threads) {
    return SquareSums.total(
        values, length, threads, (start, n, scratch) -> SquareSums.chunk(values, start, n));
  }

  @Override
  public void adam(
      AdamScalars s,
      MemorySegment param,
      MemorySegment grad,
      long length,
      MomentState m,
      MomentState v,
      int threads,
      MemorySegment clear) {
    MomentChunks mChunks = MomentChunks.of(m, "m");
    threads = KernelPool.usable(threads, Segments.of(param, grad, clear, m, v));
    if (length == 0) {
      return;
    }
    MomentChunks vChunks;
    Rank1Maxima.Scales newScales = null;
    switch (v) {
      case Rank1Moment r -> {
        newScales = Rank1Maxima.compute(s, param, grad, r, threads);
        vChunks = new MomentChunks.Rank1(r, newScales.rows(), newScales.cols());
      }
      case FactorizedMoment f ->
          vChunks =
              new MomentChunks.Factorized(f, FactorizedStats.update(s, param, grad, f, threads));
      default -> vChunks = MomentChunks.of(v, "v");
    }
    boolean factorized = v instanceof FactorizedMoment;
    KernelPool.forEachChunk(
        length,
        threads,
        () -> new float[][] {new float[SquareSums.CHUNK], new float[SquareSums.CHUNK]},
        clear,
        (start, n, moments) -> {
          float[] ms = moments[0];
          float[] vs = moments[1];
          mChunks.load(start, n, ms);
          vChunks.load(start, n, vs);
          adamChunk(s, param, grad, start, n, ms, vs, factorized);
          mChunks.store(start, n, ms);
          vChunks.store(start, n, vs);
        });
    Codes.clearPadding(m, length);
    Codes.clearPadding(v, length);
    if (v instanceof Rank1Moment r) {
      writeScales(r.rowScales(), newScales.rows());
      writeScales(r.colScales(), newScales.cols());
    }
  }

  @Override
  public void sgd(
      SgdScalars s,
      MemorySegment param,
      MemorySegment grad,
      long length,
      MomentState buffer,
      int threads,
      MemorySegment clear) {
    MomentChunks bChunks = MomentChunks.of(buffer, "buffer");
    threads = KernelPool.usable(threads, Segments.of(param, grad, clear, buffer));
    KernelPool.forEachChunk(
        length,
        threads,
        () -> new float[SquareSums.CHUNK],
        clear,
        (start, n, bs) -> {
          if (!s.firstStep()) {
            bChunks.load(start, n, bs);
          }
          sgdChunk(s, param, grad, start, n, bs);
          bChunks.store(start, n, bs);
        });
    Codes.clearPadding(buffer, length);
  }

  /** The Adam update of one chunk: {@code ms} and {@code vs} hold the old moments, then the new. */
  private static void adamChunk(
      AdamScalars s,
      MemorySegment param,
      MemorySegment grad,
      long start,
      int n,
      float[] ms,
      float[] vs,
      boolean factorized) {
    float oneMinusBeta1 = 1f - s.beta1();
    float oneMinusBeta2 = 1f - s.beta2();
    for (int k = 0; k < n; k++) {
      long i = start + k;
      float p = Codes.getFloat(param, i);
      float g = adamGrad(s, Codes.getFloat(grad, i), p);
      float m = firstMoment(s.beta1(), oneMinusBeta1, ms[k], g);
      float v = factorized ? vs[k] : secondMoment(s.beta2(), oneMinusBeta2, vs[k], g);
      Codes.setFloat(param, i, adamParameter(s, p, m, v));
      ms[k] = m;
      vs[k] = v;
    }
  }

  /**
   * The SGD update of one chunk: {@code bs} holds the old buffer (unless first step), then the new.
   */
  private static void sgdChunk(
      SgdScalars s, MemorySegment param, MemorySegment grad, long start, int n, float[] bs) {
    for (int k = 0; k < n; k++) {
      long i = start + k;
      float p = Codes.getFloat(param, i);
      float g = sgdGrad(s, Codes.getFloat(grad, i), p);
      float b = sgdBuffer(s, bs[k], g);
      Codes.setFloat(param, i, sgdParameter(s, p, g, b));
      bs[k] = b;
    }
  }

  /**
   * The gradient after rescaling, clipping and L2 decay ({@link AdamScalars}, first three lines).
   *
   * @param s the step's scalars
   * @param g the raw gradient element
   * @param p the parameter element (before the step)
   * @return the gradient the moments see
   */
  static float adamGrad(AdamScalars s, float g, float p) {
    return transform(g, p, s.gradScale(), s.clip(), s.l2Decay());
  }

  /**
   * The gradient after rescaling, clipping and L2 decay ({@link SgdScalars}, first three lines).
   *
   * @param s the step's scalars
   * @param g the raw gradient element
   * @param p the parameter element (before the step)
   * @return the gradient the buffer sees
   */
  static float sgdGrad(SgdScalars s, float g, float p) {
    return transform(g, p, s.gradScale(), s.clip(), s.l2Decay());
  }

  private static float transform(float g, float p, float gradScale, float clip, float l2Decay) {
    g = g * gradScale;
    if (clip > 0) {
      g = (g > clip) ? clip : (g < -clip) ? -clip : g;
    }
    if (l2Decay != 0) {
      g = g + l2Decay * p;
    }
    return g;
  }

  /**
   * Adam's first-moment update {@code beta1 * m + (1 - beta1) * g}.
   *
   * @param beta1 decay
   * @param oneMinusBeta1 {@code 1 - beta1}, computed once in float
   * @param m old value
   * @param g transformed gradient
   * @return new value
   */
  static float firstMoment(float beta1, float oneMinusBeta1, float m, float g) {
    return beta1 * m + oneMinusBeta1 * g;
  }

  /**
   * Adam's parameter update from the fresh float32 moments:
   * {@code (p - decoupledDecay * p) - (stepSize * m) / (sqrt(v) * vScale + eps)}.
   *
   * @param s the step's scalars
   * @param p the parameter element before the step
   * @param m the new first moment
   * @param v the new second moment
   * @return the new parameter element
   */
  static float adamParameter(AdamScalars s, float p, float m, float v) {
    float denom = (float) Math.sqrt(v) * s.vScale() + s.eps();
    return (p - s.decoupledDecay() * p) - (s.stepSize() * m) / denom;
  }

  /**
   * The new SGD momentum buffer: {@code g} on the first step, else {@code momentum * b + g}.
   *
   * @param s the step's scalars
   * @param b the old buffer element (ignored on the first step)
   * @param g the transformed gradient
   * @return the new buffer element
   */
  static float sgdBuffer(SgdScalars s, float b, float g) {
    return s.firstStep() ? g : s.momentum() * b + g;
  }

  /**
   * SGD's parameter update {@code p - lr * (nesterov ? g + momentum * b : b)}.
   *
   * @param s the step's scalars
   * @param p the parameter element before the step
   * @param g the transformed gradient
   * @param b the new buffer element
   * @return the new parameter element
   */
  static float sgdParameter(SgdScalars s, float p, float g, float b) {
    float direction = s.nesterov() ? g + s.momentum() * b : b;
    return p - s.lr() * direction;
  }

  /**
   * Adam's second-moment update {@code beta2 * v + (1 - beta2) * (g * g)}.
   *
   * @param beta2 decay
   * @param oneMinusBeta2 {@code 1 - beta2}, computed once in float
   * @param v old value
   * @param g transformed gradient
   * @return new value
   */
  static float secondMoment(float beta2, float oneMinusBeta2, float v, float g) {
    return beta2 * v + oneMinusBeta2 * (g * g);
  }

  /**
   * The block scale: {@code max |x|} over {@code values[from, to)}, 0 for an empty or all-zero
   * range.
   *
   * @param values the new values
   * @param from first index
   * @param to one past the last index
   * @return the scale
   */
  static float absMax(float[] values, int from, int to) {
    float max = 0f;
    for (int k = from; k < to; k++) {
      max = Math.max(max, Math.abs(values[k]));
    }
    return max;
  }

  /**
   * The code of {@code x} under {@code scale}: {@code book.encode(x / scale)}, or
   * {@code book.encode(0f)} when the scale is 0.
   *
   * @param book the code book
   * @param x the new value
   * @param scale its block (or rank-1) scale
   * @return the code
   */
  static int encode(CodeBook book, float x, float scale) {
    return scale == 0f ? book.encode(0f) : book.encode(x / scale);
  }

  /**
   * Number of kernel chunks of a tensor.
   *
   * @param length elements
   * @return {@code ceil(length / CHUNK)}
   */
  static long chunkCount(long length) {
    return (length + SquareSums.CHUNK - 1) / SquareSums.CHUNK;
  }

  /**
   * Elements of the chunk that starts at {@code start}.
   *
   * @param length elements of the tensor
   * @param start the chunk's first element
   * @return at most {@link SquareSums#CHUNK}
   */
  static int chunkLength(long length, long start) {
    return (int) Math.min(SquareSums.CHUNK, length - start);
  }

  private static void writeScales(MemorySegment target, float[] values) {
    for (int i = 0; i < values.length; i++) {
      Codes.setFloat(target, i, values[i]);
    }
  }
}
