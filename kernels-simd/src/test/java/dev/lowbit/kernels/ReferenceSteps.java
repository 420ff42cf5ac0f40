package dev.lowbit.kernels;

/**
 * A straightforward re-implementation of the kernels' contract, written from the javadoc of
 * {@link AdamScalars}, {@link SgdScalars}, {@link FactorizedMoment} and
 * {@link OptimizerKernels#sumOfSquares}: whole-tensor float arrays, decode everything, update
 * element by element, re-encode everything through quant-blockwise's quantizers.
 */
final class ReferenceSteps {

  private ReferenceSteps() {}

  static float transform(float g, float p, float gradScale, float clip, float l2Decay) {
    g = g * gradScale;
    if (clip > 0) {
      g = (g > clip) ? clip : (g < -clip) ? -clip : g;
    }
    if (l2Decay != 0) {
      g = g + l2Decay * p;
    }
    return g;
  }

  /** One Adam step on arrays; {@code m} and {@code v} are replaced by their new encoding. */
  static void adam(AdamScalars s, float[] p, float[] grad, TestState m, TestState v) {
    int n = p.length;
    float[] g = new float[n];
    for (int i = 0; i < n; i++) {
      g[i] = transform(grad[i], p[i], s.gradScale(), s.clip(), s.l2Decay());
    }
    float[] mv = m.decode();
    boolean factorized = v.spec.kind() == TestState.Kind.FACTORIZED;
    float[] vv = factorized ? factorizedV(s.beta2(), g, v) : v.decode();
    float b1c = 1f - s.beta1();
    float b2c = 1f - s.beta2();
    for (int i = 0; i < n; i++) {
      mv[i] = s.beta1() * mv[i] + b1c * g[i];
      if (!factorized) {
        vv[i] = s.beta2() * vv[i] + b2c * (g[i] * g[i]);
      }
      float denom = (float) Math.sqrt(vv[i]) * s.vScale() + s.eps();
      p[i] = (p[i] - s.decoupledDecay() * p[i]) - (s.stepSize() * mv[i]) / denom;
    }
    m.encode(mv);
    if (!factorized) {
      v.encode(vv);
    }
  }

  /** One SGD step on arrays; {@code b} is replaced by its new encoding. */
  static void sgd(SgdScalars s, float[] p, float[] grad, TestState b) {
    float[] bv = s.firstStep() ? new float[p.length] : b.decode();
    for (int i = 0; i < p.length; i++) {
      float g = transform(grad[i], p[i], s.gradScale(), s.clip(), s.l2Decay());
      bv[i] = s.firstStep() ? g : s.momentum() * bv[i] + g;
      p[i] = p[i] - s.lr() * (s.nesterov() ? g + s.momentum() * bv[i] : bv[i]);
    }
    b.encode(bv);
  }

  /** Updates the factorized statistics in {@code v} and returns the rebuilt v per element. */
  static float[] factorizedV(float beta2, float[] g, TestState v) {
    int rows = (int) v.rows;
    int cols = (int) v.cols;
    float b2c = 1f - beta2;
    float[] out = new float[g.length];
    for (int b = 0; b < v.batch; b++) {
      int base = b * rows * cols;
      for (int i = 0; i < rows; i++) {
        float[] row = new float[cols];
        System.arraycopy(g, base + i * cols, row, 0, cols);
        double sum = sumOfSquares(row);
        int at = b * rows + i;
        v.rowStats[at] = beta2 * v.rowStats[at] + b2c * (float) (sum / cols);
      }
      for (int j = 0; j < cols; j++) {
        double sum = 0.0;
        for (int i = 0; i < rows; i++) {
          double x = g[base + i * cols + j];
          sum += x * x;
        }
        int at = b * cols + j;
        v.colStats[at] = beta2 * v.colStats[at] + b2c * (float) (sum / rows);
      }
      double rowTotal = 0.0;
      for (int i = 0; i < rows; i++) {
        rowTotal += v.rowStats[b * rows + i];
      }
      float meanRow = (float) (rowTotal / rows);
      for (int i = 0; i < rows; i++) {
        for (int j = 0; j < cols; j++) {
          out[base + i * cols + j] =
              meanRow == 0f ? 0f : (v.rowStats[b * rows + i] * v.colStats[b * cols + j]) / meanRow;
        }
      }
    }
    return out;
  }

  /** The documented order: chunks of 4096, 16 lanes by offset, lanes then chunks left to right. */
  static double sumOfSquares(float[] x) {
    double total = 0.0;
    for (int start = 0; start < x.length; start += 4096) {
      double[] lanes = new double[16];
      for (int k = 0; start + k < x.length && k < 4096; k++) {
        double d = x[start + k];
        lanes[k % 16] += d * d;
      }
      double chunk = 0.0;
      for (double lane : lanes) {
        chunk += lane;
      }
      total += chunk;
    }
    return total;
  }
}
