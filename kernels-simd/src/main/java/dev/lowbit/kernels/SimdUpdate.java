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
 * <p>Moments are passed as a segment and a byte offset: either the state's own float32 segment or
 * a heap view of a scratch tile holding decoded values. New values are written back in place.
 */
final class SimdUpdate {

  private static final ByteOrder ORDER = ByteOrder.nativeOrder();

  private SimdUpdate() {}

  /**
   * Adam over elements {@code [start, start + n)} (formula in {@link AdamScalars}).
   *
   * @param shape vector width
   * @param s the step's scalars
   * @param param the parameter, updated
   * @param grad the gradient
   * @param start first element
   * @param n number of elements
   * @param ms the old first moment, replaced by the new one
   * @param mOff byte offset of element {@code start}'s moment in {@code ms}
   * @param vs the old second moment (or, if {@code vFinal}, the second moment to use), replaced
   *     by the new one
   * @param vOff byte offset in {@code vs}
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
      MemorySegment ms,
      long mOff,
      MemorySegment vs,
      long vOff,
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
      long at = 4L * k;
      FloatVector p = FloatVector.fromMemorySegment(floats, param, pOff + at, ORDER);
      FloatVector g =
          transform(
              FloatVector.fromMemorySegment(floats, grad, pOff + at, ORDER),
              p,
              s.gradScale(),
              s.clip(),
              s.l2Decay());
      FloatVector m =
          FloatVector.fromMemorySegment(floats, ms, mOff + at, ORDER)
              .mul(beta1)
              .add(g.mul(oneMinusBeta1));
      FloatVector v = FloatVector.fromMemorySegment(floats, vs, vOff + at, ORDER);
      if (!vFinal) {
        v = v.mul(beta2).add(g.mul(g).mul(oneMinusBeta2));
      }
      FloatVector denom = v.lanewise(VectorOperators.SQRT).mul(vScale).add(eps);
      p.sub(p.mul(decay))
          .sub(m.mul(stepSize).div(denom))
          .intoMemorySegment(param, pOff + at, ORDER);
      m.intoMemorySegment(ms, mOff + at, ORDER);
      v.intoMemorySegment(vs, vOff + at, ORDER);
    }
    for (; k < n; k++) {
      long at = 4L * k;
      float p = param.get(Codes.FLOAT, pOff + at);
      float g = ScalarKernels.adamGrad(s, grad.get(Codes.FLOAT, pOff + at), p);
      float m = beta1 * ms.get(Codes.FLOAT, mOff + at) + oneMinusBeta1 * g;
      float v = vs.get(Codes.FLOAT, vOff + at);
      if (!vFinal) {
        v = ScalarKernels.secondMoment(beta2, oneMinusBeta2, v, g);
      }
      float denom = (float) Math.sqrt(v) * vScale + eps;
      param.set(Codes.FLOAT, pOff + at, (p - decay * p) - (stepSize * m) / denom);
      ms.set(Codes.FLOAT, mOff + at, m);
      vs.set(Codes.FLOAT, vOff + at, v);
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
   * SGD with momentum over elements {@code [start, start + n)} (formula in {@link SgdScalars}).
   *
   * @param shape vector width
   * @param s the step's scalars
   * @param param the parameter, updated
   * @param grad the gradient
   * @param start first element
   * @param n number of elements
   * @param bs the old buffer (not read on the first step), replaced by the new one
   * @param bOff byte offset of element {@code start}'s buffer value in {@code bs}
   */
  static void sgd(
      SimdShape shape,
      SgdScalars s,
      MemorySegment param,
      MemorySegment grad,
      long start,
      int n,
      MemorySegment bs,
      long bOff) {
    VectorSpecies<Float> floats = shape.floats();
    float momentum = s.momentum();
    float lr = s.lr();
    boolean first = s.firstStep();
    boolean nesterov = s.nesterov();
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
      FloatVector b =
          first
              ? g
              : FloatVector.fromMemorySegment(floats, bs, bOff + at, ORDER).mul(momentum).add(g);
      FloatVector direction = nesterov ? g.add(b.mul(momentum)) : b;
      p.sub(direction.mul(lr)).intoMemorySegment(param, pOff + at, ORDER);
      b.intoMemorySegment(bs, bOff + at, ORDER);
    }
    for (; k < n; k++) {
      long at = 4L * k;
      float p = param.get(Codes.FLOAT, pOff + at);
      float g = ScalarKernels.sgdGrad(s, grad.get(Codes.FLOAT, pOff + at), p);
      float b = first ? g : momentum * bs.get(Codes.FLOAT, bOff + at) + g;
      float direction = nesterov ? g + momentum * b : b;
      param.set(Codes.FLOAT, pOff + at, p - lr * direction);
      bs.set(Codes.FLOAT, bOff + at, b);
    }
  }

  /**
   * The gradient the moments see: rescaled, clipped, plus L2 decay (first lines of
   * {@link AdamScalars}); lane-wise the same as {@link ScalarKernels#adamGrad}.
   */
  private static FloatVector transform(
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
