package dev.lowbit.bench.shampoo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The training run behind the error table's "real" matrix: its gradients are those of the mean
 * squared error it documents (checked by central differences), and the statistic is the decayed
 * Gram matrix of the layer's gradient rows.
 */
class TrainingStatisticTest {

  private static final int HIDDEN = 6;

  private static float[] gaussian(int n, double std, Random random) {
    float[] f = new float[n];
    for (int i = 0; i < n; i++) {
      f[i] = (float) (std * random.nextGaussian());
    }
    return f;
  }

  /** {@code ||y - target||^2 / (2 batch)}, in double, from the float32 forward pass. */
  private static double loss(float[] x, float[] w1, float[] w2, float[] target) {
    float[] y =
        TrainingStatistic.forward(
            x, w1, w2, new float[TrainingStatistic.BATCH * HIDDEN], HIDDEN);
    double sum = 0;
    for (int i = 0; i < y.length; i++) {
      double e = y[i] - target[i];
      sum += e * e;
    }
    return sum / (2 * TrainingStatistic.BATCH);
  }

  /**
   * Every element of both gradients against a central difference with step 1e-3. The difference
   * is exact for the second layer (the loss is quadratic in it) and off by about
   * {@code 1e-6 / 6} times a third derivative of order 1 for the first; the float32 rounding of
   * the forward pass adds about {@code 1e-7 * loss / 2e-3}, some 1e-4 at a loss near 5. So 1e-3
   * separates a right gradient from a wrong one, which is off by whole terms.
   */
  @Test
  void backwardGivesTheMeanSquaredErrorsGradient() {
    Random random = new Random(7);
    int in = TrainingStatistic.IN;
    int out = TrainingStatistic.OUT;
    int batch = TrainingStatistic.BATCH;
    float[] x = gaussian(batch * in, 1, random);
    float[] w1 = gaussian(HIDDEN * in, 1 / Math.sqrt(in), random);
    float[] w2 = gaussian(out * HIDDEN, 1 / Math.sqrt(HIDDEN), random);
    float[] target = gaussian(batch * out, 1, random);
    float[] h = new float[batch * HIDDEN];
    float[] y = TrainingStatistic.forward(x, w1, w2, h, HIDDEN);
    float[] g1 = new float[HIDDEN * in];
    float[] g2 = new float[out * HIDDEN];
    TrainingStatistic.backward(x, h, y, target, w2, g1, g2, HIDDEN);

    double largest = 0;
    for (float[][] weightAndGradient : new float[][][] {{w1, g1}, {w2, g2}}) {
      float[] w = weightAndGradient[0];
      float[] g = weightAndGradient[1];
      for (int i = 0; i < w.length; i++) {
        float saved = w[i];
        float up = saved + 1e-3f;
        float down = saved - 1e-3f;
        w[i] = up;
        double lossUp = loss(x, w1, w2, target);
        w[i] = down;
        double lossDown = loss(x, w1, w2, target);
        w[i] = saved;
        double numeric = (lossUp - lossDown) / ((double) up - down);
        assertEquals(numeric, g[i], 1e-3, (w == w1 ? "w1" : "w2") + "[" + i + "]");
        largest = Math.max(largest, Math.abs(g[i]));
      }
    }
    assertTrue(largest > 0.01, "gradients large enough to tell apart: " + largest);
  }

  /** {@code L = beta L + (1 - beta) G G^T} for G of shape (n, 64), both triangles. */
  @Test
  void accumulateDecaysTheStatisticAndAddsTheGramOfTheRows() {
    Random random = new Random(3);
    int n = 3;
    int in = TrainingStatistic.IN;
    float[] g = gaussian(n * in, 1, random);
    double[] l = {2, 0.5, 0.25, 0.5, 3, 0.125, 0.25, 0.125, 4};
    double[] before = l.clone();
    TrainingStatistic.accumulate(l, g, n);
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        double dot = 0;
        for (int k = 0; k < in; k++) {
          dot += (double) g[i * in + k] * g[j * in + k];
        }
        double expected = 0.95 * before[i * n + j] + 0.05 * dot;
        assertEquals(expected, l[i * n + j], 1e-12 * Math.abs(expected), i + ", " + j);
      }
    }
  }
}
