package dev.lowbit.optim;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The float32 optimizers against plain double-precision implementations of the update rules in
 * docs/algorithms.md section 4, 20 steps. Two checks, both with the bound of 1e-6 relative:
 * <ul>
 *   <li>each step from the same state: the double rule applied to the float32 parameters and
 *       moments held before the step must match the float32 result element by element (float
 *       rounding contributes a few 6e-8 ulps; a wrong term, such as a missing bias correction,
 *       changes the result by about 1e-3 relative);
 *   <li>free-running for 20 steps: the relative L2 distance of the parameters. (Element-wise,
 *       rounding accumulated over 20 steps reaches 1.2e-6 on the worst of 5000 elements, as
 *       expected from 40 roundings of 3e-8, so the accumulated check uses the norm.)
 * </ul>
 * Parameters start at magnitudes in [0.5, 1.5] so that relative errors are well defined.
 */
class Float32ReferenceTest {

  private static final int N = 5000;
  private static final int STEPS = 20;
  private static final double BOUND = 1e-6;

  private static float[] start(SplittableRandom rnd) {
    float[] p = new float[N];
    for (int i = 0; i < N; i++) {
      double mag = 0.5 + rnd.nextDouble();
      p[i] = (float) (rnd.nextBoolean() ? mag : -mag);
    }
    return p;
  }

  private void adamCase(boolean decoupled, boolean djl) {
    double lr = 1e-3;
    double b1 = 0.9;
    double b2 = 0.999;
    double eps = 1e-8;
    double wd = 0.01;
    SplittableRandom rnd = new SplittableRandom(7);
    float[] p = start(rnd);
    double[] pd = new double[N];
    double[] m = new double[N];
    double[] v = new double[N];
    for (int i = 0; i < N; i++) {
      v[i] = 0;
    }
    for (int i = 0; i < N; i++) {
      pd[i] = p[i];
    }
    Adam.Builder b = decoupled ? Optimizers.adamW32() : Optimizers.adam();
    try (Optimizer opt = b.learningRate((float) lr).betas((float) b1, (float) b2)
        .epsilon((float) eps).weightDecay((float) wd).djlEpsilon(djl).build()) {
      opt.register("p", new long[] {N}, p);
      double worstStep = 0;
      double worstNorm = 0;
      double fb1 = (float) b1;
      double fb2 = (float) b2;
      double feps = (float) eps;
      double flr = (float) lr;
      double fwd = (float) wd;
      for (int t = 1; t <= STEPS; t++) {
        float[] g = TestStates.gaussian(rnd, N, 0.1);
        float[] p0 = p.clone();
        float[] m0 = TestStates.dequantize(opt, "p", 0);
        float[] v0 = TestStates.dequantize(opt, "p", 1);
        opt.step("p", g);
        float[] m1 = TestStates.dequantize(opt, "p", 0);
        float[] v1 = TestStates.dequantize(opt, "p", 1);
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < N; i++) {
          // One step from the float state held before the step.
          double[] one = adamRule(decoupled, djl, t, g[i], p0[i], m0[i], v0[i], fb1, fb2, feps,
              flr, fwd);
          worstStep = Math.max(worstStep, Math.abs(p[i] - one[0]) / Math.abs(one[0]));
          // v relative to itself, but at least one typical step's contribution (1 - b2) * 0.1^2:
          // with L2 decay, g + wd * p can cancel to almost 0, and the float sum then carries a
          // large relative (but tiny absolute) error into that element's v.
          worstStep = Math.max(
              worstStep, Math.abs(v1[i] - one[2]) / Math.max(one[2], (1 - fb2) * 0.01));
          // m crosses zero: relative to the gradient's scale instead.
          worstStep = Math.max(worstStep, Math.abs(m1[i] - one[1]) / 0.1);
          // The free-running double reference.
          double[] run = adamRule(decoupled, djl, t, g[i], pd[i], m[i], v[i], fb1, fb2, feps,
              flr, fwd);
          pd[i] = run[0];
          m[i] = run[1];
          v[i] = run[2];
          diff += (p[i] - pd[i]) * (p[i] - pd[i]);
          norm += pd[i] * pd[i];
        }
        worstNorm = Math.max(worstNorm, Math.sqrt(diff / norm));
      }
      double ws = worstStep;
      double wn = worstNorm;
      assertTrue(ws < BOUND, "worst one-step relative difference " + ws);
      assertTrue(wn < BOUND, "worst accumulated relative L2 distance " + wn);
    }
  }

  /** docs/algorithms.md section 4 in double: returns {p, m, v} after one step. */
  private static double[] adamRule(boolean decoupled, boolean djl, int t, double g, double p,
      double m, double v, double b1, double b2, double eps, double lr, double wd) {
    double gi = g + (decoupled ? 0 : wd * p);
    m = b1 * m + (1 - b1) * gi;
    v = b2 * v + (1 - b2) * gi * gi;
    double bc1 = 1 - Math.pow(b1, t);
    double bc2 = 1 - Math.pow(b2, t);
    double update = djl
        ? lr * Math.sqrt(bc2) / bc1 * m / (Math.sqrt(v) + eps)
        : lr * (m / bc1) / (Math.sqrt(v / bc2) + eps);
    return new double[] {p - (decoupled ? lr * wd * p : 0) - update, m, v};
  }

  @Test
  void adamWMatchesDouble() {
    adamCase(true, false);
  }

  @Test
  void adamWithL2MatchesDouble() {
    adamCase(false, false);
  }

  @Test
  void djlEpsilonModeMatchesDouble() {
    adamCase(true, true);
  }

  @Test
  void sgdNesterovMatchesDouble() {
    for (boolean nesterov : new boolean[] {false, true}) {
      double lr = 0.01;
      double mu = 0.9;
      double wd = 1e-3;
      SplittableRandom rnd = new SplittableRandom(11);
      float[] p = start(rnd);
      double[] pd = new double[N];
      double[] buf = new double[N];
      for (int i = 0; i < N; i++) {
        pd[i] = p[i];
      }
      try (Optimizer opt = Optimizers.sgdMomentum32().learningRate((float) lr)
          .momentum((float) mu).nesterov(nesterov).weightDecay((float) wd).build()) {
        opt.register("p", new long[] {N}, p);
        double worst = 0;
        for (int t = 1; t <= STEPS; t++) {
          float[] g = TestStates.gaussian(rnd, N, 0.1);
          opt.step("p", g);
          for (int i = 0; i < N; i++) {
            double gi = g[i] + (double) (float) wd * pd[i];
            buf[i] = t == 1 ? gi : (double) (float) mu * buf[i] + gi;
            double d = nesterov ? gi + (double) (float) mu * buf[i] : buf[i];
            pd[i] -= (double) (float) lr * d;
            worst = Math.max(worst, Math.abs(p[i] - pd[i]) / Math.abs(pd[i]));
          }
        }
        double w = worst;
        assertTrue(w < BOUND, "nesterov=" + nesterov + ": worst relative difference " + w);
      }
    }
  }
}
