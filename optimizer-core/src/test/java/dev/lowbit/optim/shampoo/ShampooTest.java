package dev.lowbit.optim.shampoo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.optim.NonFiniteGradientException;
import dev.lowbit.optim.NonFinitePolicy;
import dev.lowbit.optim.Optimizer;
import dev.lowbit.optim.Optimizers;
import dev.lowbit.optim.Sgd;
import dev.lowbit.quant.CodeBook;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.junit.jupiter.api.Test;

class ShampooTest {

  static float[] randomFloats(int n, long seed) {
    Random r = new Random(seed);
    float[] f = new float[n];
    for (int i = 0; i < n; i++) {
      f[i] = (float) r.nextGaussian();
    }
    return f;
  }

  @Test
  void rankOneTensorsStepExactlyLikeTheBase() {
    float[] a = randomFloats(7, 1);
    float[] b = a.clone();
    try (Optimizer shampoo =
            Shampoo.shampoo32(Optimizers.adamW32().learningRate(0.1f).build())
                .statisticsInterval(1)
                .inverseRootInterval(1)
                .build();
        Optimizer adam = Optimizers.adamW32().learningRate(0.1f).build()) {
      shampoo.register("bias", new long[] {1, 7, 1}, a);
      adam.register("bias", new long[] {1, 7, 1}, b);
      for (int s = 0; s < 3; s++) {
        float[] g = randomFloats(7, 10 + s);
        shampoo.step("bias", g);
        adam.step("bias", g);
      }
      assertArrayEquals(b, a);
      assertEquals(0, ((Shampoo) shampoo).memory("bias").preconditioners());
    }
  }

  /** One step of 32-bit Shampoo over plain SGD against the formula, computed independently. */
  @Test
  void oneStepMatchesTheFormula() {
    int n = 6;
    int m = 9;
    double beta = 0.9;
    double eps = 1e-3;
    float[] w = randomFloats(n * m, 2);
    float[] w0 = w.clone();
    float[] g = randomFloats(n * m, 3);
    try (Shampoo opt =
        Shampoo.builder(Optimizers.sgd().momentum(0f).learningRate(0.5f).build())
            .statisticsInterval(1)
            .inverseRootInterval(1)
            .beta(beta)
            .epsilon(eps)
            .build()) {
      opt.register("w", new long[] {n, m}, w);
      opt.step("w", g);
      assertEquals(0, opt.preconditionerFailures(), "both roots exist: nothing to report");
    }
    DMatrixRMaj gm = new DMatrixRMaj(n, m);
    for (int i = 0; i < g.length; i++) {
      gm.data[i] = g[i];
    }
    DMatrixRMaj l = CommonOps_DDRM.identity(n);
    CommonOps_DDRM.scale(beta * (float) eps, l);
    DMatrixRMaj ggt = new DMatrixRMaj(n, n);
    CommonOps_DDRM.multTransB(gm, gm, ggt);
    CommonOps_DDRM.addEquals(l, 1 - beta, ggt);
    DMatrixRMaj r = CommonOps_DDRM.identity(m);
    CommonOps_DDRM.scale(beta * (float) eps, r);
    DMatrixRMaj gtg = new DMatrixRMaj(m, m);
    CommonOps_DDRM.multTransA(gm, gm, gtg);
    CommonOps_DDRM.addEquals(r, 1 - beta, gtg);
    DMatrixRMaj lr = root(l, eps);
    DMatrixRMaj rr = root(r, eps);
    DMatrixRMaj tmp = new DMatrixRMaj(n, m);
    CommonOps_DDRM.mult(lr, gm, tmp);
    DMatrixRMaj pre = new DMatrixRMaj(n, m);
    CommonOps_DDRM.mult(tmp, rr, pre);
    CommonOps_DDRM.scale(
        org.ejml.dense.row.NormOps_DDRM.normF(gm) / org.ejml.dense.row.NormOps_DDRM.normF(pre),
        pre);
    for (int i = 0; i < w.length; i++) {
      double expected = w0[i] - 0.5 * pre.data[i];
      assertEquals(expected, w[i], 1e-5 * (1 + Math.abs(expected)), "element " + i);
    }
  }

  private static DMatrixRMaj root(DMatrixRMaj a, double eps) {
    var eig = org.ejml.dense.row.factory.DecompositionFactory_DDRM.eig(a.numRows, true, true);
    eig.decompose(a.copy());
    int n = a.numRows;
    double max = 0;
    for (int k = 0; k < n; k++) {
      max = Math.max(max, eig.getEigenvalue(k).getReal());
    }
    DMatrixRMaj out = new DMatrixRMaj(n, n);
    for (int k = 0; k < n; k++) {
      DMatrixRMaj v = eig.getEigenVector(k);
      double d = Math.pow(eig.getEigenvalue(k).getReal() + eps * max, -0.25);
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
          out.add(i, j, d * v.get(i) * v.get(j));
        }
      }
    }
    return out;
  }

  @Test
  void preconditionerStateOf4BitIsAtLeast6Point5TimesSmaller() {
    for (long[] shape : new long[][] {{1024, 1024}, {4096, 1024}}) {
      ShampooMemory full = memoryOf(ShampooPrecision.FP32, shape);
      ShampooMemory four = memoryOf(ShampooPrecision.FOUR_BIT, shape);
      double ratio =
          (double) (full.preconditioners() + full.inverseRoots())
              / (four.preconditioners() + four.inverseRoots());
      System.out.printf(
          "shape %dx%d: 32-bit %s, 4-bit %s, preconditioner ratio %.3f%n",
          shape[0], shape[1], full, four, ratio);
      assertTrue(ratio >= 6.5, "ratio " + ratio);
      // Exact accounting: 4 blocks of 1024 for the tall one, each side n = 1024.
      long blocks = shape[0] / 1024;
      long n = 1024;
      assertEquals(blocks * 2 * (4 * n * n), full.preconditioners());
      assertEquals(blocks * 2 * (4 * n + n * n / 2 + 4 * n * (n / 64)), four.preconditioners());
      assertEquals(blocks * 2 * (4 * n + n * n / 2 + 4 * n * (n / 64)), four.inverseRoots());
      // 4-bit AdamW base: about 1.03 bytes per parameter, counted apart.
      assertTrue(four.base() > shape[0] * shape[1] && four.base() < 1.1 * shape[0] * shape[1]);
    }
  }

  private static ShampooMemory memoryOf(ShampooPrecision precision, long[] shape) {
    try (Shampoo opt =
        Shampoo.builder(Optimizers.adamW4bit().build()).precision(precision).build()) {
      opt.register("w", shape, new float[(int) (shape[0] * shape[1])]);
      ShampooMemory m = opt.memory("w");
      assertEquals(opt.stateBytes(), m.total());
      assertEquals(opt.base().stateBytes(), m.base());
      return m;
    }
  }

  @Test
  void nonFiniteGradientFollowsTheBasePolicy() {
    // NaN, and a finite value whose square overflows float32; under a rescale of 10, 1e18 too:
    // Shampoo refuses them by its base's limit before any statistic is touched.
    float[] bad = {Float.NaN, 2e19f, 1e18f};
    float[] rescale = {1f, 1f, 10f};
    for (int k = 0; k < bad.length; k++) {
      float[] w = randomFloats(64 * 64, 4);
      float[] before = w.clone();
      float[] g = randomFloats(64 * 64, 5);
      g[77] = bad[k];
      try (Shampoo opt =
          Shampoo.shampoo4bit(Optimizers.adamW4bit().rescaleGradient(rescale[k]).build())
              .statisticsInterval(1)
              .inverseRootInterval(1)
              .build()) {
        opt.register("w", new long[] {64, 64}, w);
        NonFiniteGradientException e =
            assertThrows(NonFiniteGradientException.class, () -> opt.step("w", g));
        assertEquals("w", e.parameterName());
        assertEquals(77, e.index());
        assertArrayEquals(before, w);
        assertEquals(0, opt.stepCount("w"));
        assertEquals(0, opt.base().stepCount("w"));
      }
      try (Shampoo opt =
          Shampoo.shampoo4bit(Optimizers.adamW4bit().rescaleGradient(rescale[k])
                  .nonFinitePolicy(NonFinitePolicy.SKIP).build())
              .build()) {
        opt.register("w", new long[] {64, 64}, w);
        opt.step("w", g);
        assertEquals(1, opt.skippedSteps());
        assertArrayEquals(before, w);
      }
    }
  }

  /**
   * Before its first inverse root Shampoo steps exactly like its base, so the base's norm
   * clipping under Shampoo must clip like the base alone: per tensor, and over every tensor of a
   * call (two matrices and a bias here) for the global norm, also through stepAndZero.
   */
  @Test
  void normClippingOfTheBaseSpansTheCallAsWithoutShampoo() {
    Supplier<Sgd.Builder> global =
        () -> Optimizers.sgd().momentum(0f).learningRate(1f).clipGlobalNorm(1f);
    Supplier<Sgd.Builder> tensor =
        () -> Optimizers.sgd().momentum(0f).learningRate(1f).clipTensorNorm(0.5f);
    for (Supplier<Sgd.Builder> config : List.of(global, tensor)) {
      float[][] plain = {new float[16], new float[12], new float[4]};
      float[][] shampooed = {new float[16], new float[12], new float[4]};
      try (Optimizer base = config.get().build();
          Shampoo opt = Shampoo.builder(config.get().build()).build()) {
        for (Optimizer o : List.of(base, opt)) {
          float[][] w = o == base ? plain : shampooed;
          o.register("a", new long[] {4, 4}, w[0]);
          o.register("b", new long[] {3, 4}, w[1]);
          o.register("bias", new long[] {4}, w[2]);
          Map<String, MemorySegment> grads = new LinkedHashMap<>();
          grads.put("a", MemorySegment.ofArray(randomFloats(16, 30)));
          grads.put("b", MemorySegment.ofArray(randomFloats(12, 31)));
          grads.put("bias", MemorySegment.ofArray(randomFloats(4, 32)));
          o.step(grads);
          float[] g = randomFloats(16, 33);
          o.stepAndZero("a", MemorySegment.ofArray(g), MemorySegment.ofArray(g));
          assertArrayEquals(new float[16], g);
        }
      }
      for (int i = 0; i < plain.length; i++) {
        assertArrayEquals(plain[i], shampooed[i]);
      }
    }
    // Preconditioned from the first step on, the update (from zero weights, learning rate 1)
    // still has the clipped norm over both tensors (each alone was clipped to 1: sqrt(2)).
    float[][] w = {new float[16], new float[12]};
    try (Shampoo opt = Shampoo.builder(global.get().build())
        .statisticsInterval(1).inverseRootInterval(1).build()) {
      opt.register("a", new long[] {4, 4}, w[0]);
      opt.register("b", new long[] {3, 4}, w[1]);
      float[] ga = randomFloats(16, 40);
      float[] gb = randomFloats(12, 41);
      opt.step(Map.of("a", MemorySegment.ofArray(ga), "b", MemorySegment.ofArray(gb)));
    }
    double sum = 0;
    for (float[] x : w) {
      for (float v : x) {
        sum += (double) v * v;
      }
    }
    assertEquals(1.0, Math.sqrt(sum), 1e-6);
  }

  /**
   * With epsilon 0 and a rank-1 gradient the statistic is singular, so its inverse root does not
   * exist: the failure is reported with the parameter name and the step uses the last good root
   * (here the initial identity), exactly as the base optimizer would step on the raw gradient.
   */
  @Test
  void singularStatisticFallsBackToTheLastGoodRoot() {
    for (ShampooPrecision precision : ShampooPrecision.values()) {
      int n = 64;
      float[] u = randomFloats(n, 6);
      float[] v = randomFloats(n, 7);
      float[] g = new float[n * n];
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
          g[i * n + j] = u[i] * v[j];
        }
      }
      float[] w = randomFloats(n * n, 8);
      float[] reference = w.clone();
      List<PreconditionerFailure> failures = new ArrayList<>();
      try (Shampoo opt =
              Shampoo.builder(Optimizers.adamW32().learningRate(0.01f).build())
                  .precision(precision)
                  .epsilon(0)
                  .statisticsInterval(1)
                  .inverseRootInterval(1)
                  .onPreconditionerFailure(failures::add)
                  .build();
          Optimizer adam = Optimizers.adamW32().learningRate(0.01f).build()) {
        opt.register("fc1.weight", new long[] {n, n}, w);
        adam.register("fc1.weight", new long[] {n, n}, reference);
        opt.step("fc1.weight", g);
        adam.step("fc1.weight", g);
        assertFalse(failures.isEmpty(), precision + ": no failure reported");
        for (PreconditionerFailure f : failures) {
          assertEquals("fc1.weight", f.parameter());
          assertEquals("inverse root", f.what());
          assertTrue(f.message().contains("'fc1.weight'"), f.message());
        }
        assertEquals(failures.size(), opt.preconditionerFailures());
        for (float x : w) {
          assertTrue(Float.isFinite(x));
        }
        // Both roots stayed the identity, and grafting keeps the norm: the raw gradient.
        if (failures.size() == 2) {
          assertArrayEquals(reference, w, 1e-6f, precision.toString());
        }
      }
    }
  }

  /**
   * A gradient so large that G G^T overflows float32: the statistic keeps its last value. (Such
   * a gradient passes the step's size check only because the base rescales it by 1e-20: see
   * {@link #aGradientWhoseNormTheBaseWouldRefuseIsRefusedFirst}.) Float32 preconditioners
   * (16 x 8) refuse the overflowed statistic itself; 4-bit ones (64 x 64, both sides 4-bit)
   * compute it in double and refuse its eigenvalues, which do not fit in float32.
   */
  @Test
  void overflowingStatisticIsDroppedAndReported() {
    for (ShampooPrecision precision : ShampooPrecision.values()) {
      long[] shape = precision == ShampooPrecision.FP32 ? new long[] {16, 8} : new long[] {64, 64};
      int n = (int) (shape[0] * shape[1]);
      List<PreconditionerFailure> failures = new ArrayList<>();
      float[] w = randomFloats(n, 9);
      float[] g = randomFloats(n, 10);
      for (int i = 0; i < g.length; i++) {
        g[i] *= 1e20f;
      }
      try (Shampoo opt =
          Shampoo.builder(
                  Optimizers.sgdMomentum32().rescaleGradient(1e-20f).learningRate(1e-2f).build())
              .precision(precision)
              .statisticsInterval(1)
              .inverseRootInterval(1)
              .onPreconditionerFailure(failures::add)
              .build()) {
        opt.register("w", shape, w);
        opt.step("w", g);
      }
      assertEquals(
          2, failures.stream().filter(f -> f.what().equals("statistic")).count(),
          precision + ": " + failures);
      for (float x : w) {
        assertTrue(Float.isFinite(x), precision.toString());
      }
    }
  }

  /**
   * Grafting gives the gradient handed to the base the raw gradient's norm, so an element of it
   * can be as large as that norm: Shampoo accepts elements up to the base's limit over
   * {@code sqrt(n)}, so that the base never refuses what Shampoo already counted in its
   * statistics.
   */
  @Test
  void aGradientWhoseNormTheBaseWouldRefuseIsRefusedFirst() {
    float[] w = randomFloats(16 * 8, 9);
    float[] before = w.clone();
    float[] g = randomFloats(16 * 8, 10);
    for (int i = 0; i < g.length; i++) {
      g[i] = Math.copySign(9e18f, g[i]); // each below 2^63, the norm (1e20) far above
    }
    float[] untouched = w.clone();
    Supplier<Shampoo> shampoo = () ->
        Shampoo.builder(Optimizers.sgdMomentum32().learningRate(1e-22f).build())
            .statisticsInterval(1)
            .inverseRootInterval(1)
            .build();
    try (Shampoo opt = shampoo.get(); Shampoo fresh = shampoo.get()) {
      opt.register("w", new long[] {16, 8}, w);
      fresh.register("w", new long[] {16, 8}, untouched);
      NonFiniteGradientException e =
          assertThrows(NonFiniteGradientException.class, () -> opt.step("w", g));
      assertEquals(0, e.index());
      assertTrue(e.getMessage().contains("too large"), e.getMessage());
      assertEquals(0, opt.stepCount("w"));
      assertEquals(0, opt.base().stepCount("w"));
      assertArrayEquals(before, w);
      // Within the limit (2^63 / sqrt(128), about 8.2e17) the step goes through, exactly as on
      // an optimizer that never saw the refused gradient: its statistics were not touched.
      float[] ok = randomFloats(16 * 8, 11);
      for (int i = 0; i < ok.length; i++) {
        ok[i] *= 1e17f;
      }
      opt.step("w", ok);
      fresh.step("w", ok);
      assertEquals(1, opt.base().stepCount("w"));
      assertArrayEquals(untouched, w);
    }
  }

  /**
   * A gradient at Shampoo's limit whose grafted form concentrates in one element: with a base
   * rescale that is not a power of two, a limit rounded up would let that element round past
   * the base's own limit, and the base refuse a step whose statistics Shampoo had updated.
   */
  @Test
  void aGradientAtTheLimitIsNeverRefusedByTheBase() {
    for (boolean globalClip : new boolean[] {false, true}) {
      Optimizer base = Optimizers.sgd().momentum(0f).learningRate(1e-30f)
          .rescaleGradient(1.004386f).clipGlobalNorm(globalClip ? 1e30f : 0f).build();
      try (Shampoo opt = Shampoo.builder(base)
              .statisticsInterval(1).inverseRootInterval(2).epsilon(1e-30).build()) {
        opt.register("w", new long[] {2, 3}, new float[6]);
        opt.step("w", new float[] {1, 0, 0, 0, 0, 0});
        opt.step("w", new float[] {0, 1, 0, 0, 0, 0});
        float[] atLimit = new float[6];
        java.util.Arrays.fill(atLimit, opt.largestGradient(opt.parameter("w")));
        opt.step("w", atLimit);
        assertEquals(3, opt.stepCount("w"), "global clip " + globalClip);
        assertEquals(3, opt.base().stepCount("w"), "global clip " + globalClip);
      }
    }
  }

  /** The largest block size is one block per side, like any size above the matrix's. */
  @Test
  void maxPreconditionerDimOfIntMaxStepsLikeOneBlock() {
    float[] big = randomFloats(6 * 9, 2);
    float[] small = big.clone();
    float[] start = big.clone();
    try (Shampoo a = Shampoo.builder(Optimizers.sgd().momentum(0f).learningRate(0.5f).build())
            .statisticsInterval(1).inverseRootInterval(1).maxPreconditionerDim(Integer.MAX_VALUE)
            .build();
        Shampoo b = Shampoo.builder(Optimizers.sgd().momentum(0f).learningRate(0.5f).build())
            .statisticsInterval(1).inverseRootInterval(1).maxPreconditionerDim(9)
            .build()) {
      a.register("w", new long[] {6, 9}, big);
      b.register("w", new long[] {6, 9}, small);
      for (int s = 0; s < 3; s++) {
        float[] g = randomFloats(6 * 9, 20 + s);
        a.step("w", g);
        b.step("w", g);
      }
    }
    assertFalse(java.util.Arrays.equals(start, big), "the weights moved");
    assertArrayEquals(small, big);
  }


  /**
   * Failure reporting names the parameter, step, block and side. A zero gradient with epsilon 0
   * leaves every statistic exactly 0, so no inverse root exists (every shifted eigenvalue is 0,
   * not positive): each side of each block fails at each root update. A 64 x 128 weight with
   * blocks of 64 has two 64 x 64 blocks (4-bit sides in 4-bit Shampoo).
   */
  @Test
  void everyFailedRootIsReportedWithItsStepBlockAndSide() {
    for (ShampooPrecision precision : ShampooPrecision.values()) {
      List<PreconditionerFailure> failures = new ArrayList<>();
      try (Shampoo opt =
          Shampoo.builder(Optimizers.sgd().momentum(0f).learningRate(0.1f).build())
              .precision(precision)
              .epsilon(0)
              .maxPreconditionerDim(64)
              .statisticsInterval(1)
              .inverseRootInterval(2)
              .onPreconditionerFailure(failures::add)
              .build()) {
        float[] w = randomFloats(64 * 128, 12);
        float[] before = w.clone();
        opt.register("w", new long[] {64, 128}, w);
        for (int s = 0; s < 4; s++) {
          opt.step("w", new float[64 * 128]);
        }
        List<PreconditionerFailure> expected = new ArrayList<>();
        for (long step : new long[] {2, 4}) {
          for (int block = 0; block < 2; block++) {
            for (String side : new String[] {"left", "right"}) {
              expected.add(new PreconditionerFailure("w", step, block, side, "inverse root"));
            }
          }
        }
        // (4-bit also drops each statistic update: a subspace step cannot orthonormalize the
        // zero matrix. Those are reported too, and counted.)
        assertEquals(expected,
            failures.stream().filter(f -> f.what().equals("inverse root")).toList(),
            precision.toString());
        assertEquals(failures.size(), opt.preconditionerFailures(), precision.toString());
        // The last good roots (the identity) stay: a zero gradient moves nothing.
        assertArrayEquals(before, w, precision.toString());
      }
    }
  }

  /**
   * 4-bit Shampoo on a diagonal gradient against the formula. G = diag(d) makes both statistics
   * diagonal, beta * epsilon + (1 - beta) * d_i^2 from the initial epsilon * I, so their
   * eigenvectors (+-e_i, found by the first subspace step from I) and the roots' zero
   * off-diagonals are exact in 4 bits: the preconditioned gradient is
   * d_i * (L_ii + epsilon * max L)^(-1/2), grafted to ||d||, with nothing lost to
   * quantization. Order 64 (4096 elements) is the smallest quantized one.
   */
  @Test
  void fourBitShampooOnADiagonalGradientMatchesTheFormula() {
    int n = 64;
    double beta = 0.5;
    double eps = 0.1;
    float[] d = new float[n];
    for (int i = 0; i < n; i++) {
      d[i] = 0.5f + 1.5f * i / (n - 1);
    }
    float[] g = new float[n * n];
    for (int i = 0; i < n; i++) {
      g[i * n + i] = d[i];
    }
    float[] w = new float[n * n];
    List<PreconditionerFailure> failures = new ArrayList<>();
    try (Shampoo opt =
        Shampoo.shampoo4bit(Optimizers.sgd().momentum(0f).learningRate(1f).build())
            .statisticsInterval(1)
            .inverseRootInterval(1)
            .beta(beta)
            .epsilon(eps)
            .onPreconditionerFailure(failures::add)
            .build()) {
      opt.register("w", new long[] {n, n}, w);
      // Both sides 4-bit: eigenvalues, codes and scales, as docs/shampoo.md counts them.
      assertEquals(2 * (4L * n + n * n / 2 + 4L * n * (n / 64)), opt.memory("w").preconditioners());
      opt.step("w", g);
    }
    assertTrue(failures.isEmpty(), failures.toString());
    double[] l = new double[n];
    double max = 0;
    for (int i = 0; i < n; i++) {
      l[i] = beta * (float) eps + (1 - beta) * d[i] * d[i];
      max = Math.max(max, l[i]);
    }
    double[] hat = new double[n];
    double normHat = 0;
    double normG = 0;
    for (int i = 0; i < n; i++) {
      hat[i] = d[i] / Math.sqrt(l[i] + eps * max);
      normHat += hat[i] * hat[i];
      normG += (double) d[i] * d[i];
    }
    double scale = Math.sqrt(normG / normHat);
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        double expected = i == j ? -scale * hat[i] : 0;
        assertEquals(expected, w[i * n + j], 1e-5 * (1 + Math.abs(expected)), i + "," + j);
      }
    }
  }

  /**
   * Each block is preconditioned alone: a 6 x 9 weight cut into six 3 x 3 blocks steps exactly
   * like six 3 x 3 weights (SGD without momentum is element-wise, grafting is per block).
   */
  @Test
  void blocksArePreconditionedIndependently() {
    float[] whole = randomFloats(6 * 9, 50);
    float[][] parts = new float[6][9];
    try (Shampoo a = Shampoo.builder(Optimizers.sgd().momentum(0f).learningRate(0.5f).build())
            .statisticsInterval(1).inverseRootInterval(2).maxPreconditionerDim(3).build();
        Shampoo b = Shampoo.builder(Optimizers.sgd().momentum(0f).learningRate(0.5f).build())
            .statisticsInterval(1).inverseRootInterval(2).maxPreconditionerDim(3).build()) {
      a.register("w", new long[] {6, 9}, whole);
      for (int k = 0; k < 6; k++) {
        parts[k] = block(whole, k);
        b.register("p" + k, new long[] {3, 3}, parts[k]);
      }
      for (int s = 0; s < 3; s++) {
        float[] g = randomFloats(6 * 9, 60 + s);
        a.step("w", g);
        Map<String, MemorySegment> grads = new LinkedHashMap<>();
        for (int k = 0; k < 6; k++) {
          grads.put("p" + k, MemorySegment.ofArray(block(g, k)));
        }
        b.step(grads);
      }
    }
    for (int k = 0; k < 6; k++) {
      assertArrayEquals(parts[k], block(whole, k), "block " + k);
    }
  }

  /** Block k (row-major, 2 x 3 blocks of 3 x 3) of a 6 x 9 matrix. */
  private static float[] block(float[] m, int k) {
    float[] out = new float[9];
    int r0 = (k / 3) * 3;
    int c0 = (k % 3) * 3;
    for (int i = 0; i < 3; i++) {
      for (int j = 0; j < 3; j++) {
        out[i * 3 + j] = m[(r0 + i) * 9 + c0 + j];
      }
    }
    return out;
  }

  /**
   * Shampoo checks the base's learning rate for the base's next step before touching any
   * statistic: 0 (a warm-up from zero) is a valid rate, a negative one is refused up front, in
   * Shampoo's own words, with nothing stepped.
   */
  @Test
  void theBaseScheduleIsCheckedForItsNextStep() {
    float[] w = randomFloats(4 * 4, 70);
    float[] before = w.clone();
    try (Shampoo opt = Shampoo.builder(Optimizers.sgd().momentum(0f)
            .learningRate(step -> step == 1 ? 0f : 0.1f).build())
        .statisticsInterval(1).inverseRootInterval(1).build()) {
      opt.register("w", new long[] {4, 4}, w);
      opt.step("w", randomFloats(16, 71));
      assertEquals(1, opt.base().stepCount("w"));
      assertArrayEquals(before, w, "learning rate 0 at step 1");
      opt.step("w", randomFloats(16, 72));
      assertFalse(java.util.Arrays.equals(before, w), "learning rate 0.1 at step 2");
    }
    try (Shampoo opt = Shampoo.builder(Optimizers.sgd().momentum(0f)
            .learningRate(step -> step == 1 ? -1f : 0.1f).build())
        .statisticsInterval(1).inverseRootInterval(1).build()) {
      float[] v = before.clone();
      opt.register("w", new long[] {4, 4}, v);
      IllegalStateException e =
          assertThrows(IllegalStateException.class, () -> opt.step("w", randomFloats(16, 71)));
      assertTrue(e.getMessage().startsWith("base optimizer's learning-rate schedule returned -1.0"
          + " for step 1 of parameter 'w'"), e.getMessage());
      assertEquals(0, opt.stepCount("w"));
      assertEquals(0, opt.base().stepCount("w"));
      assertArrayEquals(before, v);
    }
  }

  /**
   * The optimizer-wide split sums the parameters' splits field by field, and each total is its
   * three parts: 32-bit Shampoo over float32 SGD-momentum holds 4 n^2 bytes per statistic and
   * per root, and 4 bytes per element of momentum.
   */
  @Test
  void memorySplitsAddUpOverParameters() {
    try (Shampoo opt = Shampoo.shampoo32(Optimizers.sgdMomentum32().build()).build()) {
      opt.register("a", new long[] {8, 4}, new float[32]);
      opt.register("b", new long[] {3, 5}, new float[15]);
      opt.register("bias", new long[] {6}, new float[6]);
      assertEquals(new ShampooMemory(4L * (64 + 16), 4L * (64 + 16), 4L * 32), opt.memory("a"));
      assertEquals(new ShampooMemory(4L * (9 + 25), 4L * (9 + 25), 4L * 15), opt.memory("b"));
      assertEquals(new ShampooMemory(0, 0, 4L * 6), opt.memory("bias"));
      ShampooMemory all = opt.memory();
      assertEquals(new ShampooMemory(4L * 114, 4L * 114, 4L * 53), all);
      assertEquals(4L * (114 + 114 + 53), all.total());
      assertEquals(4L * (80 + 80 + 32), opt.memory("a").total());
      assertEquals(all.total(), opt.stateBytes());
    }
  }

  /** Closing Shampoo closes it like any optimizer (it cannot be used afterwards) and its base. */
  /** precision() is the storage built: float32 by default and from shampoo32, 4-bit asked for. */
  @Test
  void precisionIsTheStorageBuilt() {
    try (Shampoo byDefault = Shampoo.builder(Optimizers.sgdMomentum32().build()).build();
        Shampoo fp32 = Shampoo.shampoo32(Optimizers.sgdMomentum32().build()).build();
        Shampoo fourBit = Shampoo.shampoo4bit(Optimizers.sgdMomentum32().build()).build()) {
      assertEquals(ShampooPrecision.FP32, byDefault.precision());
      assertEquals(ShampooPrecision.FP32, fp32.precision());
      assertEquals(ShampooPrecision.FOUR_BIT, fourBit.precision());
    }
  }

  @Test
  void closeClosesShampooAndItsBase() {
    Shampoo opt = Shampoo.shampoo32(Optimizers.sgdMomentum32().build()).build();
    opt.register("w", new long[] {4, 4}, new float[16]);
    opt.step("w", randomFloats(16, 80));
    opt.close();
    assertThrows(IllegalStateException.class, () -> opt.stepCount("w"));
    assertThrows(IllegalStateException.class, () -> opt.base().stepCount("w"));
    opt.close(); // idempotent
  }

  /**
   * With epsilon 0, a block whose gradients so far are all exactly zero has the statistic 0,
   * which is finite, so nothing is reported ("a statistic update that would not be finite is
   * dropped"). 4-bit Shampoo reported a "statistic" failure on each side: its subspace step
   * QR-decomposed A V = 0 and got no finite basis.
   */
  @Test
  void aZeroStatisticIsNotAFailure() {
    for (ShampooPrecision precision : ShampooPrecision.values()) {
      List<PreconditionerFailure> failures = new ArrayList<>();
      try (Shampoo opt = Shampoo.builder(Optimizers.sgd().momentum(0f).learningRate(0.1f).build())
          .precision(precision).epsilon(0).statisticsInterval(1).inverseRootInterval(100)
          .onPreconditionerFailure(failures::add).build()) {
        opt.register("w", new long[] {64, 64}, new float[64 * 64]);
        opt.step("w", new float[64 * 64]);
      }
      assertEquals(List.of(), failures, precision.toString());
    }
  }

  @Test
  void unregisterReleasesTheBaseRegistration() {
    try (Shampoo opt = Shampoo.shampoo32(Optimizers.sgdMomentum8bit().build()).build()) {
      opt.register("w", new long[] {4, 4}, new float[16]);
      assertTrue(opt.base().parameterNames().contains("w"));
      opt.unregister("w");
      assertFalse(opt.base().parameterNames().contains("w"));
      opt.register("w", new long[] {4, 4}, new float[16]);
      assertEquals(1, opt.base().parameterNames().size());
    }
  }

  @Test
  void builderNamesBadOptions() {
    Shampoo.Builder b = Shampoo.builder(Optimizers.adamW32().build());
    assertTrue(
        assertThrows(IllegalArgumentException.class, () -> b.beta(1.0))
            .getMessage().contains("beta"));
    b.beta(0); // [0, 1): no decay, the statistics are the last gradient's alone
    assertTrue(
        assertThrows(IllegalArgumentException.class, () -> b.epsilon(-1))
            .getMessage().contains("epsilon"));
    assertTrue(
        assertThrows(IllegalArgumentException.class, () -> b.statisticsInterval(0))
            .getMessage().contains("statisticsInterval"));
    assertTrue(
        assertThrows(IllegalArgumentException.class, () -> b.codeBook(CodeBook.LINEAR_4))
            .getMessage().contains("codeBook"));
    Optimizer used = Optimizers.adamW32().build();
    used.register("x", new long[] {2}, new float[2]);
    assertThrows(IllegalStateException.class, () -> Shampoo.builder(used).build());
  }

  /**
   * A close from inside a step (here from the base's schedule, which Shampoo's checks call) is
   * refused and leaves Shampoo as it was: an unregister afterwards still releases the base's
   * registration (Shampoo's close had already set its closing flag when the refusal came).
   */
  @Test
  void aCloseFromInsideAStepIsRefusedAndShampooStaysWhole() {
    Shampoo[] self = new Shampoo[1];
    boolean[] closeOnce = {true};
    Optimizer base = Optimizers.adamW32().learningRate(t -> {
      if (closeOnce[0]) {
        closeOnce[0] = false;
        self[0].close();
      }
      return 1e-3f;
    }).build();
    try (Shampoo opt = Shampoo.shampoo32(base).build()) {
      self[0] = opt;
      float[] w = randomFloats(16, 1);
      float[] w0 = w.clone();
      opt.register("w", new long[] {4, 4}, w);
      IllegalStateException e =
          assertThrows(IllegalStateException.class, () -> opt.step("w", randomFloats(16, 2)));
      assertTrue(e.getMessage().startsWith("cannot close while a step"), e.getMessage());
      assertArrayEquals(w0, w);
      assertEquals(0, opt.stepCount("w"));
      opt.unregister("w");
      assertEquals(java.util.Set.of(), base.parameterNames());
    }
  }
}
