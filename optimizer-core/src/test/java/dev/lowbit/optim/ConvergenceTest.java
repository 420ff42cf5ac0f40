package dev.lowbit.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.quant.CodeBook;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Convergence on generated data: 2000 minibatch steps (batch 16 of 256 samples, the same batch
 * sequence for every optimizer), cosine learning-rate decay to 0, then the loss on all 256
 * samples. The final loss of every 8-bit and 4-bit variant must be within 1% of the float32
 * optimizer's. The weight matrix is 16 x 256 = 4096 elements, so with the default threshold every
 * quantized path (block-wise, rank-1, factorized) runs on it.
 *
 * <p><b>The 4-bit first-moment map.</b> With the 4-bit paper's m map ({@code de-signed-4}, +1 but
 * no -1) AdamW 4-bit ends 1.89% above float32 on least squares (+1.66% with batches of 32, +1.39%
 * with full batches; DE-4 m with float32 v: +1.87%; float32 m with rank-1 v: +0.008%). A block led
 * by a negative value is stored as -0.8875 of it and shrinks at every re-quantization. The 4-bit
 * presets therefore use {@code de1-signed-4} (-1 in place of -0.8875): +0.04%. A symmetric
 * 15-entry DE map (+-1, no +-0.8875) gives +0.05%, linear-square +0.03%.
 * {@link #fourBitPaperFirstMomentMapMissesOnLeastSquares()} keeps both outcomes in one test.
 */
class ConvergenceTest {

  private static final int N = 256;
  private static final int BATCH = 16;
  private static final int IN = 16;
  private static final int OUT = 256;
  private static final int STEPS = 2000;

  /** A linear model X W with a least-squares or a logistic loss over generated data. */
  static final class Problem {
    final boolean logistic;
    final float[] x = new float[N * IN];
    final float[] y = new float[N * OUT];

    Problem(boolean logistic, long seed) {
      this.logistic = logistic;
      SplittableRandom rnd = new SplittableRandom(seed);
      double[] wTrue = new double[IN * OUT];
      for (int i = 0; i < x.length; i++) {
        x[i] = (float) rnd.nextGaussian();
      }
      for (int i = 0; i < wTrue.length; i++) {
        wTrue[i] = rnd.nextGaussian();
      }
      for (int s = 0; s < N; s++) {
        for (int o = 0; o < OUT; o++) {
          double z = 0;
          for (int k = 0; k < IN; k++) {
            z += x[s * IN + k] * wTrue[k * OUT + o];
          }
          if (logistic) {
            // 15% of labels flipped, so that the data are not separable.
            boolean label = (z > 0) != (rnd.nextDouble() < 0.15);
            y[s * OUT + o] = label ? 1f : 0f;
          } else {
            y[s * OUT + o] = (float) (z + 0.5 * rnd.nextGaussian());
          }
        }
      }
    }

    /**
     * Mean loss over {@code rows} (least squares: 0.5 * ||x W - y||^2 per sample; logistic: the
     * summed binary cross-entropy per sample); writes its gradient.
     */
    double lossAndGradient(float[] w, float[] grad, int[] rows) {
      Arrays.fill(grad, 0f);
      double loss = 0;
      double[] z = new double[OUT];
      for (int s : rows) {
        Arrays.fill(z, 0);
        for (int k = 0; k < IN; k++) {
          double xk = x[s * IN + k];
          for (int o = 0; o < OUT; o++) {
            z[o] += xk * w[k * OUT + o];
          }
        }
        for (int o = 0; o < OUT; o++) {
          double label = y[s * OUT + o];
          if (logistic) {
            // log(1 + e^z) - label * z, computed stably; its derivative is sigmoid(z) - label.
            loss += Math.max(z[o], 0) + Math.log1p(Math.exp(-Math.abs(z[o]))) - label * z[o];
            z[o] = 1 / (1 + Math.exp(-z[o])) - label;
          } else {
            loss += 0.5 * (z[o] - label) * (z[o] - label);
            z[o] = z[o] - label;
          }
        }
        for (int k = 0; k < IN; k++) {
          double xk = x[s * IN + k] / rows.length;
          for (int o = 0; o < OUT; o++) {
            grad[k * OUT + o] += (float) (xk * z[o]);
          }
        }
      }
      return loss / rows.length;
    }
  }

  private static double train(Problem problem, OptimizerBuilder<?> builder, float peakLr) {
    float[] w = new float[IN * OUT];
    float[] grad = new float[IN * OUT];
    builder.learningRate(t -> (float) (peakLr * 0.5 * (1 + Math.cos(Math.PI * (t - 1) / STEPS))));
    SplittableRandom batches = new SplittableRandom(77);
    int[] batch = new int[BATCH];
    try (Optimizer opt = builder.build()) {
      opt.register("w", new long[] {IN, OUT}, w);
      for (int step = 0; step < STEPS; step++) {
        for (int i = 0; i < BATCH; i++) {
          batch[i] = batches.nextInt(N);
        }
        problem.lossAndGradient(w, grad, batch);
        opt.step("w", grad);
      }
    }
    int[] all = new int[N];
    Arrays.setAll(all, i -> i);
    return problem.lossAndGradient(w, grad, all);
  }

  private static void compare(String problemName, Problem problem) {
    Map<String, Supplier<OptimizerBuilder<?>>> adam = new LinkedHashMap<>();
    adam.put("adamW8bit", Optimizers::adamW8bit);
    adam.put("adamW4bit", Optimizers::adamW4bit);
    adam.put("adamW4bitFactorized", Optimizers::adamW4bitFactorized);
    Map<String, Supplier<OptimizerBuilder<?>>> sgd = new LinkedHashMap<>();
    sgd.put("sgdMomentum8bit", Optimizers::sgdMomentum8bit);
    sgd.put("sgdMomentum4bit", Optimizers::sgdMomentum4bit);
    check(problemName, problem, "adamW32", Optimizers::adamW32, adam, 0.01f);
    check(problemName, problem, "sgdMomentum32", Optimizers::sgdMomentum32, sgd, 0.05f);
  }

  private static void check(String problemName, Problem problem, String refName,
      Supplier<OptimizerBuilder<?>> ref, Map<String, Supplier<OptimizerBuilder<?>>> variants,
      float lr) {
    double reference = train(problem, ref.get(), lr);
    System.out.printf(Locale.ROOT, "%s %s: final loss %.6f%n", problemName, refName, reference);
    for (Map.Entry<String, Supplier<OptimizerBuilder<?>>> v : variants.entrySet()) {
      double rel = relativeGap(problemName, v.getKey(), problem, v.getValue().get(), lr, reference);
      assertTrue(Math.abs(rel) < 0.01, problemName + " " + v.getKey() + ": final loss is "
          + String.format(Locale.ROOT, "%+.3f%%", 100 * rel) + " off float32's " + reference);
    }
  }

  /** Trains one variant and returns (loss - reference) / reference, printing it. */
  private static double relativeGap(String problemName, String name, Problem problem,
      OptimizerBuilder<?> builder, float lr, double reference) {
    double loss = train(problem, builder, lr);
    double rel = (loss - reference) / reference;
    System.out.printf(Locale.ROOT, "%s %s: final loss %.6f (%+.4f%% vs float32)%n",
        problemName, name, loss, 100 * rel);
    return rel;
  }

  @Test
  void leastSquares() {
    compare("least squares", new Problem(false, 21));
  }

  @Test
  void logisticRegression() {
    compare("logistic regression", new Problem(true, 22));
  }

  /**
   * Why the 4-bit presets do not use the paper's m map: the same AdamW 4-bit with
   * {@code de-signed-4} for m misses the 1% bound on least squares, with {@code de1-signed-4}
   * (the preset) it meets it.
   */
  @Test
  void fourBitPaperFirstMomentMapMissesOnLeastSquares() {
    Problem problem = new Problem(false, 21);
    double reference = train(problem, Optimizers.adamW32(), 0.01f);
    StateFormat v = Precision.FOUR_BIT.secondMoment();
    double paper = relativeGap("least squares", "adamW4bit, m de-signed-4", problem,
        Optimizers.adamW().stateFormats(StateFormat.blockwise(CodeBook.DE_SIGNED_4, 128), v),
        0.01f, reference);
    double preset = relativeGap("least squares", "adamW4bit, m de1-signed-4", problem,
        Optimizers.adamW().stateFormats(StateFormat.blockwise(CodeBook.DE1_SIGNED_4, 128), v),
        0.01f, reference);
    assertEquals(StateFormat.blockwise(CodeBook.DE1_SIGNED_4, 128),
        Precision.FOUR_BIT.firstMoment());
    assertTrue(paper > 0.01, "de-signed-4 m: " + paper);
    assertTrue(Math.abs(preset) < 0.01, "de1-signed-4 m: " + preset);
  }
}
