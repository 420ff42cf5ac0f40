package dev.lowbit.kernels;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The element-wise update loops of the SIMD kernels. Each lane performs exactly the float
 * operations of {@link ScalarKernels}, in the same order (no fused multiply-add; lane-wise square
 * root is correctly rounded like {@code (float) Math.sqrt(v)}), and the tail elements use the
 * scalar helpers, so both write identical floats.
 *
 * <p>Moments live either in scratch tiles ({@code float[]}, decoded values of one tile) or, for the
 * all-float32 optimizers, in the state's own segments. The two are separate loops on purpose:
 * a Vector API memory access whose segments are sometimes heap and sometimes native compiles to a
 * slow generic path, so tiles are plain arrays and only the caller's memory is a segment.
 */
final class SimdUpdate {

  private static final ByteOrder ORDER = ByteOrder.nativeOrder();

  private SimdUpdate() {}

  /**
   * Adam over elements {@code [start, start + n)} (formula in {@link AdamScalars}), with the
   * moments in scratch tiles.
   *
   * @param shape vector width
   * @param s the step's scalars
   * @param param the parameter, updated
   * @param grad the gradient
   * @param start first element
   * @param n number of elements
   * @param ms the old first moment of the tile, replaced by the new one
   * @param vs the old second moment (or, if {@code vFinal}, the second moment to use), replaced
   *     by the new one
   * @param vFinal true when {@code vs} already holds this step's v (factorized), so it is not
   *     updated
   */
  static void adam(
      SimdShape shape,
      AdamScalars s,
      MemorySegment param,
      MemorySegment grad,
      long start,
      int n,
      float[] ms,
      float[] vs,
      boolean vFinal) {
    VectorSpecies<Float> floats = shape.floats();
    float beta1 = s.beta1();
    float beta2 = s.beta2();
    float oneMinusBeta1 = 1f - beta1;
    float oneMinusBeta2 = 1f - beta2;
    float stepSize = s.stepSize();
    float vScale = s.vScale();
    float eps = s.eps();
    float decay = s.decoupledDecay();
    long pOff = start * Float.BYTES;
    int bound = floats.loopBound(n);
    int k = 0;
    for (; k < bound; k += floats.length()) {
      long at = pOff + 4L * k;
      FloatVector p = FloatVector.fromMemorySegment(floats, param, at, ORDER);
      FloatVector g =
          transform(
              FloatVector.fromMemorySegment(floats, grad, at, ORDER),
              p,
              s.gradScale(),
              s.clip(),
              s.l2Decay());
      FloatVector m = FloatVector.fromArray(floats, ms, k).mul(beta1).add(g.mul(oneMinusBeta1));
      FloatVector v = FloatVector.fromArray(floats, vs, k);
      if (!vFinal) {
        v = v.mul(beta2).add(g.mul(g).mul(oneMinusBeta2));
      }
      FloatVector denom = v.lanewise(VectorOperators.SQRT).mul(vScale).add(eps);
      p.sub(p.mul(decay)).sub(m.mul(stepSize).div(denom)).intoMemorySegment(param, at, ORDER);
      m.intoArray(ms, k);
      v.intoArray(vs, k);
    }
    for (; k < n; k++) {
      long at = pOff + 4L * k;
      float p = param.get(Codes.FLOAT, at);
      float g = ScalarKernels.adamGrad(s, grad.get(Codes.FLOAT, at), p);
      float m = ScalarKernels.firstMoment(beta1, oneMinusBeta1, ms[k], g);
      float v = vFinal ? vs[k] : ScalarKernels.secondMoment(beta2, oneMinusBeta2, vs[k], g);
      param.set(Codes.FLOAT, at, ScalarKernels.adamParameter(s, p, m, v));
      ms[k] = m;
      vs[k] = v;
    }
  }

  /**
   * Adam over elements {@code [start, start + n)} with both moments float32 segments of the state,
   * updated in place (the float32 optimizer: no tiles at all).
   *
   * @param shape vector width
   * @param s the step's scalars
   * @param param the parameter, updated
   * @param grad the gradient
   * @param start first element
   * @param n number of elements
   * @param ms the first moment
   * @param vs the second moment
   */
  static void adamFp32(
      SimdShape shape,
      AdamScalars s,
      MemorySegment param,
      MemorySegment grad,
      long start,
      int n,
      MemorySegment ms,
      MemorySegment vs) {
    VectorSpecies<Float> floats = shape.floats();
    float beta1 = s.beta1();
    float beta2 = s.beta2();
    float oneMinusBeta1 = 1f - beta1;
    float oneMinusBeta2 = 1f - beta2;
    float stepSize = s.stepSize();
    float vScale = s.vScale();
    float eps = s.eps();
    float decay = s.decoupledDecay();
    long pOff = start * Float.BYTES;
    int bound = floats.loopBound(n);
    int k = 0;
    for (; k < bound; k += floats.length()) {
      long at = pOff + 4L * k;
      FloatVector p = FloatVector.fromMemorySegment(floats, param, at, ORDER);
      FloatVector g =
          transform(
              FloatVector.fromMemorySegment(floats, grad, at, ORDER),
              p,
              s.gradScale(),
              s.clip(),
              s.l2Decay());
      FloatVector m =
          FloatVector.fromMemorySegment(floats, ms, at, ORDER).mul(beta1).add(g.mul(oneMinusBeta1));
      FloatVector v =
          FloatVector.fromMemorySegment(floats, vs, at, ORDER)
              .mul(beta2)
              .add(g.mul(g).mul(oneMinusBeta2));
      FloatVector denom = v.lanewise(VectorOperators.SQRT).mul(vScale).add(eps);
      p.sub(p.mul(decay)).sub(m.mul(stepSize).div(denom)).intoMemorySegment(param, at, ORDER);
      m.intoMemorySegment(ms, at, ORDER);
      v.intoMemorySegment(vs, at, ORDER);
    }
    for (; k < n; k++) {
      long at = pOff + 4L * k;
      float p = param.get(Codes.FLOAT, at);
      float g = ScalarKernels.adamGrad(s, grad.get(Codes.FLOAT, at), p);
      float m = ScalarKernels.firstMoment(beta1, oneMinusBeta1, ms.get(Codes.FLOAT, at), g);
      float v = ScalarKernels.secondMoment(beta2, oneMinusBeta2, vs.get(Codes.FLOAT, at), g);
      param.set(Codes.FLOAT, at, ScalarKernels.adamParameter(s, p, m, v));
      ms.set(Codes.FLOAT, at, m);
      vs.set(Codes.FLOAT, at, v);
    }
  }

  /**
   * Only the new second moment of Adam over {@code [start, start + n)}, for the rank-1 pre-pass:
   * {@code vs} holds the old values and receives the new ones; nothing else is written.
   *
   * @param shape vector width
   * @param s the step's scalars
   * @param param the parameter (read)
   * @param grad the gradient
   * @param start first element
   * @param n number of elements
   * @param vs old second moment in, new out
   */
  static void secondMoment(
      SimdShape shape,
      AdamScalars s,
      MemorySegment param,
      MemorySegment grad,
      long start,
      int n,
      float[] vs) {
    VectorSpecies<Float> floats = shape.floats();
    float beta2 = s.beta2();
    float oneMinusBeta2 = 1f - beta2;
    long pOff = start * Float.BYTES;
    int bound = floats.loopBound(n);
    int k = 0;
    for (; k < bound; k += floats.length()) {
      long at = 4L * k;
      FloatVector p = FloatVector.fromMemorySegment(floats, param, pOff + at, ORDER);
      FloatVector g =
          transform(
              FloatVector.fromMemorySegment(floats, grad, pOff + at, ORDER),
              p,
              s.gradScale(),
              s.clip(),
              s.l2Decay());
      FloatVector.fromArray(floats, vs, k)
          .mul(beta2)
          .add(g.mul(g).mul(oneMinusBeta2))
          .intoArray(vs, k);
    }
    for (; k < n; k++) {
      long at = pOff + 4L * k;
      float g = ScalarKernels.adamGrad(s, grad.get(Codes.FLOAT, at), param.get(Codes.FLOAT, at));
      vs[k] = ScalarKernels.secondMoment(beta2, oneMinusBeta2, vs[k], g);
    }
  }

  /**
   * SGD with momentum over elements {@code [start, start + n)} (formula in {@link SgdScalars}),
   * the buffer in a scratch tile.
   *
   * @param shape vector width
   * @param s the step's scalars
   * @param param the parameter, updated
   * @param grad the gradient
   * @param start first element
   * @param n number of elements
   * @param bs the old buffer of the tile (not read on the first step), replaced by the new one
   */
  static void sgd(
      SimdShape shape,
      SgdScalars s,
      MemorySegment param,
      MemorySegment grad,
      long start,
      int n,
      float[] bs) {
    VectorSpecies<Float> floats = shape.floats();
    float momentum = s.momentum();
    float lr = s.lr();
    boolean first = s.firstStep();
    boolean nesterov = s.nesterov();
    long pOff = start * Float.BYTES;
    int bound = floats.loopBound(n);
    int k = 0;
    for (; k < bound; k += floats.length()) {
      long at = pOff + 4L * k;
      FloatVector p = FloatVector.fromMemorySegment(floats, param, at, ORDER);
      FloatVector g =
          transform(
              FloatVector.fromMemorySegment(floats, grad, at, ORDER),
              p,
              s.gradScale(),
              s.clip(),
              s.l2Decay());
      FloatVector b = first ? g : FloatVector.fromArray(floats, bs, k).mul(momentum).add(g);
      FloatVector direction = nesterov ? g.add(b.mul(momentum)) : b;
      p.sub(direction.mul(lr)).intoMemorySegment(param, at, ORDER);
      b.intoArray(bs, k);
    }
    for (; k < n; k++) {
      long at = pOff + 4L * k;
      float p = param.get(Codes.FLOAT, at);
      float g = ScalarKernels.sgdGrad(s, grad.get(Codes.FLOAT, at), p);
      float b = ScalarKernels.sgdBuffer(s, bs[k], g);
      param.set(Codes.FLOAT, at, ScalarKernels.sgdParameter(s, p, g, b));
      bs[k] = b;
    }
  }

  /**
   * SGD with momentum over elements {@code [start, start + n)} with a float32 buffer segment,
   * updated in place.
   *
   * @param shape vector width
   * @param s the step's scalars
   * @param param the parameter, updated
   * @param grad the gradient
   * @param start first element
   * @param n number of elements
   * @param bs the buffer (not read on the first step)
   */
  static void sgdFp32(
      SimdShape shape,
      SgdScalars s,
      MemorySegment param,
      MemorySegment grad,
      long start,
      int n,
      MemorySegment bs) {
    VectorSpecies<Float> floats = shape.floats();
    float momentum = s.momentum();
    float lr = s.lr();
    boolean first = s.firstStep();
    boolean nesterov = s.nesterov();
    long pOff = start * Float.BYTES;
    int bound = floats.loopBound(n);
    int k = 0;
    for (; k < bound; k += floats.length()) {
      long at = pOff + 4L * k;
      FloatVector p = FloatVector.fromMemorySegment(floats, param, at, ORDER);
      FloatVector g =
          transform(
              FloatVector.fromMemorySegment(floats, grad, at, ORDER),
              p,
              s.gradScale(),
              s.clip(),
              s.l2Decay());
      FloatVector b =
          first ? g : FloatVector.fromMemorySegment(floats, bs, at, ORDER).mul(momentum).add(g);
      FloatVector direction = nesterov ? g.add(b.mul(momentum)) : b;
      p.sub(direction.mul(lr)).intoMemorySegment(param, at, ORDER);
      b.intoMemorySegment(bs, at, ORDER);
    }
    for (; k < n; k++) {
      long at = pOff + 4L * k;
      float p = param.get(Codes.FLOAT, at);
      float g = ScalarKernels.sgdGrad(s, grad.get(Codes.FLOAT, at), p);
      float b = ScalarKernels.sgdBuffer(s, bs.get(Codes.FLOAT, at), g);
      param.set(Codes.FLOAT, at, ScalarKernels.sgdParameter(s, p, g, b));
      bs.set(Codes.FLOAT, at, b);
    }
  }

  /**
   * The gradient the moments see: rescaled, clipped, plus L2 decay (first lines of
   * {@link AdamScalars}); lane-wise the same as {@link ScalarKernels#adamGrad}.
   */
  static FloatVector transform(
      FloatVector g, FloatVector p, float gradScale, float clip, float l2Decay) {
    g = g.mul(gradScale);
    if (clip > 0) {
      // Blends, not min/max: they keep -0 and match the scalar's comparisons exactly.
      g = g.blend(-clip, g.compare(VectorOperators.LT, -clip))
          .blend(clip, g.compare(VectorOperators.GT, clip));
    }
    if (l2Decay != 0) {
      g = g.add(p.mul(l2Decay));
    }
    return g;
  }

  /**
   * {@link ScalarKernels#absMax} of {@code values[from, to)}: the maximum of the magnitudes'
   * bit patterns, which orders non-negative floats exactly as {@code Math.max} does.
   *
   * @param shape vector width
   * @param values the new values
   * @param from first index
   * @param to one past the last index
   * @return the block scale
   */
  static float absMax(SimdShape shape, float[] values, int from, int to) {
    VectorSpecies<Float> floats = shape.floats();
    int bound = from + floats.loopBound(to - from);
    IntVector acc = IntVector.zero(shape.ints());
    int k = from;
    for (; k < bound; k += floats.length()) {
      acc = acc.max(FloatVector.fromArray(floats, values, k).reinterpretAsInts().and(0x7FFFFFFF));
    }
    int max = acc.reduceLanes(VectorOperators.MAX);
    for (; k < to; k++) {
      max = Math.max(max, Float.floatToRawIntBits(values[k]) & 0x7FFFFFFF);
    }
    return Float.intBitsToFloat(max);
  }
}
