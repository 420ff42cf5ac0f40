package dev.lowbit.optim.shampoo;

import dev.lowbit.optim.Optimizer;
import java.util.Random;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.RandomMatrices_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.QRDecomposition;

/** Small training problems with hand-written gradients, for the convergence tests. */
final class Problems {

  private Problems() {}

  /** A problem an optimizer can be trained on: full-batch loss and gradients. */
  interface Problem {
    /** Registers the parameters (fresh copies of the initial values) in the optimizer. */
    void register(Optimizer opt);

    /** One full-batch step; returns the loss before the step. */
    double step(Optimizer opt);

    /** The current loss. */
    double loss();
  }

  /** Trains for {@code steps} steps and returns the final loss. */
  static double train(Problem problem, Optimizer opt, int steps) {
    problem.register(opt);
    for (int s = 0; s < steps; s++) {
      problem.step(opt);
    }
    return problem.loss();
  }

  /** A random orthogonal matrix (Q of a Gaussian matrix's QR). */
  static DMatrixRMaj orthogonal(int n, Random random) {
    DMatrixRMaj g = RandomMatrices_DDRM.rectangleGaussian(n, n, 0, 1, random);
    QRDecomposition<DMatrixRMaj> qr = DecompositionFactory_DDRM.qr(n, n);
    qr.decompose(g);
    return qr.getQ(null, true);
  }

  /** Eigenvalues log-spaced over three decades: {@code 10^(-3k / (n - 1))}, k = 0 .. n - 1. */
  static double[] threeDecades(int n) {
    double[] lambda = new double[n];
    for (int k = 0; k < n; k++) {
      lambda[k] = Math.pow(10, -3.0 * k / (n - 1));
    }
    return lambda;
  }

  /**
   * Inputs {@code X} (n x d) whose covariance {@code X^T X / n} has eigenvalues log-spaced from 1
   * down to {@code 1 / condition}, exactly: {@code X = U diag(sqrt(n s)) V^T} with orthonormal U
   * (n x d) and a random rotation V, so the ill-conditioning is not axis-aligned.
   */
  static DMatrixRMaj illConditionedInputs(int n, int d, double condition, Random random) {
    DMatrixRMaj gauss = RandomMatrices_DDRM.rectangleGaussian(n, d, 0, 1, random);
    QRDecomposition<DMatrixRMaj> qr = DecompositionFactory_DDRM.qr(n, d);
    qr.decompose(gauss);
    DMatrixRMaj u = qr.getQ(null, true);
    DMatrixRMaj v = orthogonal(d, random);
    DMatrixRMaj us = u.copy();
    for (int k = 0; k < d; k++) {
      double s = Math.pow(condition, -(double) k / (d - 1));
      double scale = Math.sqrt(n * s);
      for (int i = 0; i < n; i++) {
        us.unsafe_set(i, k, us.unsafe_get(i, k) * scale);
      }
    }
    DMatrixRMaj x = new DMatrixRMaj(n, d);
    CommonOps_DDRM.multTransB(us, v, x);
    return x;
  }

  /**
   * Least squares {@code min_W ||X W^T - Y||^2 / (2n)} with W of shape (m, d), the Hessian
   * {@code X^T X / n} of condition number {@code condition}, {@code Y = X W*^T + noise * N(0,1)}.
   */
  static final class LeastSquares implements Problem {
    final int n;
    final int d;
    final int m;
    final DMatrixRMaj x;
    final DMatrixRMaj y;
    final float[] w;

    LeastSquares(int n, int d, int m, double condition, double noise, long seed) {
      Random random = new Random(seed);
      this.n = n;
      this.d = d;
      this.m = m;
      this.x = illConditionedInputs(n, d, condition, random);
      DMatrixRMaj wStar = RandomMatrices_DDRM.rectangleGaussian(m, d, 0, 1, random);
      this.y = new DMatrixRMaj(n, m);
      CommonOps_DDRM.multTransB(x, wStar, y);
      for (int i = 0; i < y.getNumElements(); i++) {
        y.data[i] += noise * random.nextGaussian();
      }
      this.w = new float[m * d];
    }

    @Override
    public void register(Optimizer opt) {
      opt.register("w", new long[] {m, d}, w);
    }

    private DMatrixRMaj residual() {
      DMatrixRMaj wm = new DMatrixRMaj(m, d);
      for (int i = 0; i < w.length; i++) {
        wm.data[i] = w[i];
      }
      DMatrixRMaj r = new DMatrixRMaj(n, m);
      CommonOps_DDRM.multTransB(x, wm, r);
      CommonOps_DDRM.subtractEquals(r, y);
      return r;
    }

    @Override
    public double loss() {
      double sum = 0;
      for (double v : residual().data) {
        sum += v * v;
      }
      return sum / (2.0 * n);
    }

    @Override
    public double step(Optimizer opt) {
      DMatrixRMaj r = residual();
      double sum = 0;
      for (double v : r.data) {
        sum += v * v;
      }
      DMatrixRMaj g = new DMatrixRMaj(m, d);
      CommonOps_DDRM.multTransA(r, x, g);
      float[] grad = new float[m * d];
      for (int i = 0; i < grad.length; i++) {
        grad[i] = (float) (g.data[i] / n);
      }
      opt.step("w", grad);
      return sum / (2.0 * n);
    }
  }

  /**
   * A two-layer tanh MLP {@code y = W2 tanh(W1 x + b1) + b2} fitted by mean squared error to a
   * random teacher network of the same shape on ill-conditioned inputs, plus label noise.
   */
  static final class Mlp implements Problem {
    final int n;
    final int in;
    final int hidden;
    final int out;
    final double[][] xs;
    final double[][] ys;
    final float[] w1;
    final float[] b1;
    final float[] w2;
    final float[] b2;

    Mlp(int n, int in, int hidden, int out, double condition, double noise, long seed) {
      Random random = new Random(seed);
      this.n = n;
      this.in = in;
      this.hidden = hidden;
      this.out = out;
      DMatrixRMaj x = illConditionedInputs(n, in, condition, random);
      xs = new double[n][in];
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < in; j++) {
          xs[i][j] = x.get(i, j);
        }
      }
      float[] t1 = gaussian(hidden * in, 2.0 / Math.sqrt(in), random);
      float[] tb1 = gaussian(hidden, 0.5, random);
      float[] t2 = gaussian(out * hidden, 1.0 / Math.sqrt(hidden), random);
      ys = new double[n][];
      for (int i = 0; i < n; i++) {
        ys[i] = forward(xs[i], t1, tb1, t2, new float[out], new double[hidden]);
        for (int o = 0; o < out; o++) {
          ys[i][o] += noise * random.nextGaussian();
        }
      }
      w1 = gaussian(hidden * in, 1.0 / Math.sqrt(in), random);
      b1 = new float[hidden];
      w2 = gaussian(out * hidden, 1.0 / Math.sqrt(hidden), random);
      b2 = new float[out];
    }

    private static float[] gaussian(int length, double std, Random random) {
      float[] f = new float[length];
      for (int i = 0; i < length; i++) {
        f[i] = (float) (std * random.nextGaussian());
      }
      return f;
    }

    private double[] forward(
        double[] x, float[] w1, float[] b1, float[] w2, float[] b2, double[] h) {
      for (int j = 0; j < hidden; j++) {
        double a = b1[j];
        for (int k = 0; k < in; k++) {
          a += w1[j * in + k] * x[k];
        }
        h[j] = Math.tanh(a);
      }
      double[] yhat = new double[out];
      for (int o = 0; o < out; o++) {
        double a = b2[o];
        for (int j = 0; j < hidden; j++) {
          a += w2[o * hidden + j] * h[j];
        }
        yhat[o] = a;
      }
      return yhat;
    }

    @Override
    public void register(Optimizer opt) {
      opt.register("fc1.weight", new long[] {hidden, in}, w1);
      opt.register("fc1.bias", new long[] {hidden}, b1);
      opt.register("fc2.weight", new long[] {out, hidden}, w2);
      opt.register("fc2.bias", new long[] {out}, b2);
    }

    @Override
    public double loss() {
      double sum = 0;
      double[] h = new double[hidden];
      for (int i = 0; i < n; i++) {
        double[] yhat = forward(xs[i], w1, b1, w2, b2, h);
        for (int o = 0; o < out; o++) {
          double e = yhat[o] - ys[i][o];
          sum += e * e;
        }
      }
      return sum / (2.0 * n);
    }

    @Override
    public double step(Optimizer opt) {
      double[] gw1 = new double[w1.length];
      double[] gb1 = new double[b1.length];
      double[] gw2 = new double[w2.length];
      double[] gb2 = new double[b2.length];
      double[] h = new double[hidden];
      double[] dh = new double[hidden];
      double sum = 0;
      for (int i = 0; i < n; i++) {
        double[] yhat = forward(xs[i], w1, b1, w2, b2, h);
        java.util.Arrays.fill(dh, 0);
        for (int o = 0; o < out; o++) {
          double e = (yhat[o] - ys[i][o]) / n;
          sum += (yhat[o] - ys[i][o]) * (yhat[o] - ys[i][o]);
          gb2[o] += e;
          for (int j = 0; j < hidden; j++) {
            gw2[o * hidden + j] += e * h[j];
            dh[j] += e * w2[o * hidden + j];
          }
        }
        for (int j = 0; j < hidden; j++) {
          double da = dh[j] * (1 - h[j] * h[j]);
          gb1[j] += da;
          for (int k = 0; k < in; k++) {
            gw1[j * in + k] += da * xs[i][k];
          }
        }
      }
      opt.step(
          java.util.Map.of(
              "fc1.weight", seg(gw1), "fc1.bias", seg(gb1), "fc2.weight", seg(gw2),
              "fc2.bias", seg(gb2)));
      return sum / (2.0 * n);
    }

    private static java.lang.foreign.MemorySegment seg(double[] g) {
      float[] f = new float[g.length];
      for (int i = 0; i < g.length; i++) {
        f[i] = (float) g[i];
      }
      return java.lang.foreign.MemorySegment.ofArray(f);
    }
  }
}
