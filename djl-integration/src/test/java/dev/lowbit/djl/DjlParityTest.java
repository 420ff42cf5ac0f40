package dev.lowbit.djl;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * LowBit's float32 Adam in {@link Semantics#DJL} mode against DJL's built-in Adam on the PyTorch
 * engine: same model, same data, same steps; the weights must agree to float rounding.
 */
class DjlParityTest {

  private static final int STEPS = 30;
  /** The bound: weights equal within 1e-5 relative. */
  private static final double RELATIVE = 1e-5;

  @Test
  void float32AdamInDjlModeMatchesDjlAdam() {
    Map<String, float[]> expected = train(
        Optimizer.adam().optLearningRateTracker(Tracker.fixed(1e-2f)).build());
    Map<String, float[]> actual;
    try (LowBitOptimizer lowBit = LowBit.adam()
        .optLearningRateTracker(Tracker.fixed(1e-2f))
        .optSemantics(Semantics.DJL)
        .build()) {
      actual = train(lowBit);
    }
    assertClose("Adam", expected, actual);
  }

  @Test
  void float32AdamWWithDecayRescaleAndClipInDjlModeMatchesDjlAdamW() {
    Map<String, float[]> expected = train(
        djlAdamWWithDecayRescaleAndClip());
    Map<String, float[]> actual;
    try (LowBitOptimizer lowBit =
        lowBitAdamWWithDecayRescaleAndClip().optSemantics(Semantics.DJL).build()) {
      actual = train(lowBit);
    }
    assertClose("AdamW", expected, actual);
  }

  @Test
  void textbookModeDiffersFromDjlAdamWhereTheFormulasDiffer() {
    // The same run as above in the default mode: epsilon placement and the symmetric clip change
    // the result far beyond rounding, so the parity above is not an accident of the data.
    Map<String, float[]> djl = train(
        djlAdamWWithDecayRescaleAndClip());
    Map<String, float[]> textbook;
    try (LowBitOptimizer lowBit = lowBitAdamWWithDecayRescaleAndClip().build()) {
      textbook = train(lowBit);
    }
    double largest = 0;
    for (Map.Entry<String, float[]> e : djl.entrySet()) {
      float[] a = e.getValue();
      float[] b = textbook.get(e.getKey());
      for (int i = 0; i < a.length; i++) {
        largest = Math.max(largest, Math.abs(a[i] - b[i]) / 0.5);
      }
    }
    System.out.printf("textbook vs DJL: largest difference / 0.5 = %.3g%n", largest);
    assertTrue(
        largest > 1e-3, "textbook mode should differ from DJL's Adam, differs by " + largest);
  }

  @Test
  void sgdInDjlModeMatchesDjlSgdSoGradientsDoNotPileUp() {
    // DJL's Sgd clears each gradient after its update; were the adapter to forget, the second
    // step would already use twice the gradient.
    Map<String, float[]> expected = train(
        Optimizer.sgd().setLearningRateTracker(Tracker.fixed(0.05f)).optMomentum(0.9f).build());
    Map<String, float[]> actual;
    try (LowBitOptimizer lowBit = LowBit.sgd()
        .setLearningRateTracker(Tracker.fixed(0.05f))
        .optMomentum(0.9f)
        .optSemantics(Semantics.DJL)
        .build()) {
      actual = train(lowBit);
    }
    assertClose("SGD", expected, actual);
  }

  private static Map<String, float[]> train(Optimizer optimizer) {
    try (TinyMlp mlp = new TinyMlp(optimizer, 1)) {
      mlp.trainSteps(0, STEPS);
      return mlp.weights();
    }
  }

  /** DJL's AdamW with every option the adapter maps: the reference of the AdamW parity tests. */
  private static Optimizer djlAdamWWithDecayRescaleAndClip() {
    return Optimizer.adamW()
        .optLearningRateTracker(Tracker.fixed(1e-2f))
        .optWeightDecays(0.05f)
        .setRescaleGrad(0.5f)
        .optClipGrad(0.02f)
        .build();
  }

  /** LowBit's AdamW with the same options as {@link #djlAdamWWithDecayRescaleAndClip()}. */
  private static LowBit.AdamBuilder lowBitAdamWWithDecayRescaleAndClip() {
    return LowBit.adamW()
        .optLearningRateTracker(Tracker.fixed(1e-2f))
        .optWeightDecays(0.05f)
        .setRescaleGrad(0.5f)
        .optClipGrad(0.02f);
  }

  /**
   * Relative to the tensor's largest weight: {@code max|a - b| / max|a| <= 1e-5} per tensor. An
   * element-wise relative bound is meaningless for the few weights that pass near zero (a
   * difference of one float32 ulp of a typical weight is a large fraction of a weight of 1e-5);
   * the measured norm-wise difference is about 2e-7, a few ulps.
   */
  private static void assertClose(
      String label, Map<String, float[]> expected, Map<String, float[]> actual) {
    for (Map.Entry<String, float[]> e : expected.entrySet()) {
      float[] want = e.getValue();
      float[] got = actual.get(e.getKey());
      double largest = 0;
      double worst = 0;
      int worstAt = 0;
      for (int i = 0; i < want.length; i++) {
        largest = Math.max(largest, Math.abs(want[i]));
        double diff = Math.abs((double) want[i] - got[i]);
        if (diff > worst) {
          worst = diff;
          worstAt = i;
        }
      }
      double relative = worst / largest;
      System.out.printf("parity %s %s: max|diff| %.3g, max|w| %.3g, relative %.3g%n",
          label, e.getKey(), worst, largest, relative);
      assertTrue(relative <= RELATIVE,
          e.getKey() + ": max|diff| / max|w| = " + relative + " (element " + worstAt + ": "
              + want[worstAt] + " vs " + got[worstAt] + ")");
    }
  }
}
