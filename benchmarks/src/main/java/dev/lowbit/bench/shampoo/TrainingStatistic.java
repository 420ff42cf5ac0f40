package dev.lowbit.bench.shampoo;

import dev.lowbit.optim.Optimizer;
import dev.lowbit.optim.Optimizers;
import java.util.Arrays;
import java.util.Random;

/**
 * The "real" matrix of {@link ShampooErrorTable}: the left Shampoo statistic
 * {@code L = beta L + (1 - beta) G G^T} (beta = 0.95, T1 = 5: updated at every 5th step, starting
 * from {@code 1e-6 I}) of the {@code hidden x 64} first layer of a 64 -> hidden (tanh) -> 10 MLP,
 * over 200 steps of float32 AdamW (lr 1e-3, batches of 64 fresh Gaussian inputs) regressing a
 * random teacher network of the same shape with the mean squared error.
 */
final class TrainingStatistic {

  static final int IN = 64;
  static final int OUT = 10;
  static final int BATCH = 64;
  static final int STEPS = 200;
  static final double BETA = 0.95;
  static final int STATISTICS_INTERVAL = 5;

  private TrainingStatistic() {}

  /**
   * The statistic.
   *
   * @param hidden the layer's width: the statistic's order
   * @return the {@code hidden x hidden} statistic, row-major
   */
  static double[] of(int hidden) {
    Random random = new Random(42);
    float[] t1 = gaussian(hidden * IN, 1.5 / Math.sqrt(IN), random);
    float[] t2 = gaussian(OUT * hidden, 1.0 / Math.sqrt(hidden), random);
    float[] w1 = gaussian(hidden * IN, 1.0 / Math.sqrt(IN), random);
    float[] w2 = gaussian(OUT * hidden, 1.0 / Math.sqrt(hidden), random);
    double[] l = new double[hidden * hidden];
    for (int i = 0; i < hidden; i++) {
      l[i * hidden + i] = ShampooErrorTable.EPSILON;
    }
    try (Optimizer adam = Optimizers.adamW32().learningRate(1e-3f).threads(1).build()) {
      adam.register("fc1.weight", new long[] {hidden, IN}, w1);
      adam.register("fc2.weight", new long[] {OUT, hidden}, w2);
      float[] x = new float[BATCH * IN];
      float[] h = new float[BATCH * hidden];
      float[] teacherH = new float[BATCH * hidden];
      for (int step = 0; step < STEPS; step++) {
        for (int i = 0; i < x.length; i++) {
          x[i] = (float) random.nextGaussian();
        }
        float[] target = forward(x, t1, t2, teacherH, hidden);
        float[] y = forward(x, w1, w2, h, hidden);
        float[] g1 = new float[hidden * IN];
        float[] g2 = new float[OUT * hidden];
        backward(x, h, y, target, w2, g1, g2, hidden);
        if ((step + 1) % STATISTICS_INTERVAL == 0) {
          accumulate(l, g1, hidden);
        }
        adam.step("fc1.weight", g1);
        adam.step("fc2.weight", g2);
      }
    }
    return l;
  }

  private static float[] gaussian(int n, double std, Random random) {
    float[] f = new float[n];
    for (int i = 0; i < n; i++) {
      f[i] = (float) (std * random.nextGaussian());
    }
    return f;
  }

  /** {@code y = W2 tanh(W1 x)} for a batch; fills {@code h} with the hidden activations. */
  static float[] forward(float[] x, float[] w1, float[] w2, float[] h, int hidden) {
    float[] y = new float[BATCH * OUT];
    for (int b = 0; b < BATCH; b++) {
      for (int j = 0; j < hidden; j++) {
        double a = 0;
        for (int k = 0; k < IN; k++) {
          a += w1[j * IN + k] * x[b * IN + k];
        }
        h[b * hidden + j] = (float) Math.tanh(a);
      }
      for (int o = 0; o < OUT; o++) {
        double a = 0;
        for (int j = 0; j < hidden; j++) {
          a += w2[o * hidden + j] * h[b * hidden + j];
        }
        y[b * OUT + o] = (float) a;
      }
    }
    return y;
  }

  /** Gradients of the mean squared error {@code ||y - target||^2 / (2 batch)}. */
  static void backward(
      float[] x, float[] h, float[] y, float[] target, float[] w2, float[] g1, float[] g2,
      int hidden) {
    double[] dh = new double[hidden];
    for (int b = 0; b < BATCH; b++) {
      Arrays.fill(dh, 0);
      for (int o = 0; o < OUT; o++) {
        double e = (y[b * OUT + o] - target[b * OUT + o]) / BATCH;
        for (int j = 0; j < hidden; j++) {
          g2[o * hidden + j] += (float) (e * h[b * hidden + j]);
          dh[j] += e * w2[o * hidden + j];
        }
      }
      for (int j = 0; j < hidden; j++) {
        double hv = h[b * hidden + j];
        double da = dh[j] * (1 - hv * hv);
        for (int k = 0; k < IN; k++) {
          g1[j * IN + k] += (float) (da * x[b * IN + k]);
        }
      }
    }
  }

  /** {@code L = beta L + (1 - beta) G G^T} for G of shape (n, IN), using symmetry. */
  static void accumulate(double[] l, float[] g, int n) {
    for (int i = 0; i < n; i++) {
      for (int j = 0; j <= i; j++) {
        double dot = 0;
        for (int k = 0; k < IN; k++) {
          dot += (double) g[i * IN + k] * g[j * IN + k];
        }
        double v = BETA * l[i * n + j] + (1 - BETA) * dot;
        l[i * n + j] = v;
        l[j * n + i] = v;
      }
    }
  }
}
