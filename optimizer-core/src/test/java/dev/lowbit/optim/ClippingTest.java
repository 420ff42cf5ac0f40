package dev.lowbit.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Norm clipping and rescaling fold into one float factor per tensor, which the kernel applies as
 * {@code g * factor} before anything else. So a clipped step equals, bit for bit, an unclipped
 * step on the gradient multiplied by that factor in float; the factor is computed here
 * independently in double from the definition.
 */
class ClippingTest {

  private static double norm(float[] g) {
    double s = 0;
    for (float x : g) {
      s += (double) x * x;
    }
    return Math.sqrt(s);
  }

  private static float[] scaled(float[] g, float f) {
    float[] out = new float[g.length];
    for (int i = 0; i < g.length; i++) {
      out[i] = g[i] * f;
    }
    return out;
  }

  @Test
  void tensorAndGlobalNormClipping() {
    SplittableRandom rnd = new SplittableRandom(12);
    float[] a0 = TestStates.gaussian(rnd, 5000, 0.1);
    float[] b0 = TestStates.gaussian(rnd, 300, 0.1);
    float[] ga = TestStates.gaussian(rnd, 5000, 1.0); // norm about 70
    float[] gb = TestStates.gaussian(rnd, 300, 0.05); // norm about 0.87
    float rescale = 0.5f;
    float tensorMax = 10f;
    float globalMax = 5f;
    // Expected factors, from the definition.
    double na = rescale * norm(ga);
    double nb = rescale * norm(gb);
    double fa = na > tensorMax ? tensorMax / na : 1;
    double fb = nb > tensorMax ? tensorMax / nb : 1;
    double total = Math.sqrt(Math.pow(na * fa, 2) + Math.pow(nb * fb, 2));
    double global = total > globalMax ? globalMax / total : 1;
    float factorA = (float) (rescale * fa * global);
    float factorB = (float) (rescale * fb * global);

    float[] a1 = assertStepsAsPreScaled(
        Optimizers.adamW8bit().minQuantizedSize(0).rescaleGradient(rescale)
            .clipTensorNorm(tensorMax).clipGlobalNorm(globalMax),
        Optimizers.adamW8bit().minQuantizedSize(0), a0, b0, ga, gb, factorA, factorB, "both");
    assertFalse(Arrays.equals(a0, a1));
  }

  /**
   * One step of {@code clipping} with gradients {@code ga}, {@code gb} of tensors "a" (50 x 100)
   * and "b" (300) must leave weights and state exactly as one step of {@code plain} with the
   * gradients scaled by the expected factors beforehand.
   *
   * @return tensor a's weights after the clipped step
   */
  private static float[] assertStepsAsPreScaled(
      OptimizerBuilder<?> clipping, OptimizerBuilder<?> plainBuilder, float[] a0, float[] b0,
      float[] ga, float[] gb, float factorA, float factorB, String which) {
    float[] a1 = a0.clone();
    float[] b1 = b0.clone();
    float[] a2 = a0.clone();
    float[] b2 = b0.clone();
    try (Optimizer clipped = clipping.build();
        Optimizer plain = plainBuilder.build()) {
      clipped.register("a", new long[] {50, 100}, a1);
      clipped.register("b", new long[] {300}, b1);
      plain.register("a", new long[] {50, 100}, a2);
      plain.register("b", new long[] {300}, b2);
      Map<String, MemorySegment> grads = new LinkedHashMap<>();
      grads.put("a", MemorySegment.ofArray(ga));
      grads.put("b", MemorySegment.ofArray(gb));
      clipped.step(grads);
      plain.step("a", scaled(ga, factorA));
      plain.step("b", scaled(gb, factorB));
      assertArrayEquals(a2, a1, which);
      assertArrayEquals(b2, b1, which);
      assertArrayEquals(TestStates.snapshot(plain), TestStates.snapshot(clipped), which);
    }
    return a1;
  }

  /**
   * Each norm clip on its own (the usual setting is clipGlobalNorm alone): the other one must not
   * be needed to switch clipping on. Factors from the definition, as above. SGD with momentum,
   * whose step is proportional to the gradient (Adam's is nearly scale-invariant, so a missing
   * clip would only show through epsilon).
   */
  @Test
  void tensorNormOrGlobalNormAloneClips() {
    SplittableRandom rnd = new SplittableRandom(14);
    float[] a0 = TestStates.gaussian(rnd, 5000, 0.1);
    float[] b0 = TestStates.gaussian(rnd, 300, 0.1);
    float[] ga = TestStates.gaussian(rnd, 5000, 1.0); // norm about 70
    float[] gb = TestStates.gaussian(rnd, 300, 0.05); // norm about 0.87
    double na = norm(ga);
    double nb = norm(gb);
    float tensorMax = 10f;
    float globalMax = 5f;
    double total = Math.sqrt(na * na + nb * nb);
    float[][] factors = {
      {(float) (tensorMax / na), 1f}, // tensor norm only: a clipped to 10, b (0.87) untouched
      {(float) (globalMax / total), (float) (globalMax / total)} // global only: both by 5 / 71
    };
    for (int variant = 0; variant < 2; variant++) {
      OptimizerBuilder<?> builder = Optimizers.sgdMomentum8bit().minQuantizedSize(0);
      if (variant == 0) {
        builder.clipTensorNorm(tensorMax);
      } else {
        builder.clipGlobalNorm(globalMax);
      }
      assertStepsAsPreScaled(builder, Optimizers.sgdMomentum8bit().minQuantizedSize(0), a0, b0,
          ga, gb, factors[variant][0], factors[variant][1],
          variant == 0 ? "clipTensorNorm alone" : "clipGlobalNorm alone");
    }
  }

  @Test
  void elementClipMatchesPreClippedGradient() {
    SplittableRandom rnd = new SplittableRandom(13);
    float[] w0 = TestStates.gaussian(rnd, 4096, 0.1);
    float[] g = TestStates.gaussian(rnd, 4096, 1.0);
    float[] clippedG = new float[g.length];
    for (int i = 0; i < g.length; i++) {
      clippedG[i] = Math.max(-0.5f, Math.min(0.5f, g[i]));
    }
    float[] w1 = w0.clone();
    float[] w2 = w0.clone();
    try (Optimizer clipped = Optimizers.sgdMomentum8bit().clipValue(0.5f).build();
        Optimizer plain = Optimizers.sgdMomentum8bit().build()) {
      clipped.register("w", new long[] {4096}, w1);
      plain.register("w", new long[] {4096}, w2);
      clipped.step("w", g);
      plain.step("w", clippedG);
      assertArrayEquals(w2, w1);
    }
  }
}
