package dev.lowbit.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.training.tracker.Tracker;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * 8-bit and 4-bit AdamW train the model as well as float32 AdamW: the final loss over the whole
 * data set is within 2% of float32's (the bound; the papers report parity,
 * docs/algorithms.md section 6). Both weight matrices have at least 4096 elements, so their
 * states really are quantized; the biases keep float32 state.
 */
class QuantizedTrainingTest {

  private static final int STEPS = 160;

  @Test
  void eightAndFourBitAdamWReachTheFloat32Loss() {
    float fp32 =
        finalLoss(() -> LowBit.adamW32().optLearningRateTracker(Tracker.fixed(3e-3f)).build());
    float eight =
        finalLoss(() -> LowBit.adamW8bit().optLearningRateTracker(Tracker.fixed(3e-3f)).build());
    float four =
        finalLoss(() -> LowBit.adamW4bit().optLearningRateTracker(Tracker.fixed(3e-3f)).build());
    System.out.printf("final loss: fp32 %.6f, 8-bit %.6f (%+.2f%%), 4-bit %.6f (%+.2f%%)%n",
        fp32, eight, 100 * (eight / fp32 - 1), four, 100 * (four / fp32 - 1));
    assertTrue(eight <= 1.02f * fp32, "8-bit loss " + eight + " vs float32 " + fp32);
    assertTrue(four <= 1.02f * fp32, "4-bit loss " + four + " vs float32 " + fp32);
  }

  @Test
  void everyPresetTrainsThroughTheTrainer() {
    float untrained;
    try (LowBitOptimizer o = LowBit.adamW().build();
        TinyMlp mlp = new TinyMlp(o, 3)) {
      untrained = mlp.fullLoss();
    }
    java.util.Map<String, Supplier<LowBitOptimizer>> presets = new java.util.LinkedHashMap<>();
    presets.put("adam", () -> LowBit.adam().build());
    presets.put("adam8bit", () -> LowBit.adam8bit().build());
    presets.put("adam4bit", () -> LowBit.adam4bit().build());
    presets.put("adamW4bitFactorized", () -> LowBit.adamW4bitFactorized().build());
    // Plain SGD needs a larger step than the 0.01 default to move in 20 steps.
    presets.put("sgd", () -> LowBit.sgd().setLearningRateTracker(Tracker.fixed(0.2f)).build());
    presets.put("sgdMomentum32", () -> LowBit.sgdMomentum32().build());
    presets.put("sgdMomentum8bit", () -> LowBit.sgdMomentum8bit().build());
    presets.put("sgdMomentum4bit", () -> LowBit.sgdMomentum4bit().build());
    for (java.util.Map.Entry<String, Supplier<LowBitOptimizer>> p : presets.entrySet()) {
      float loss = finalLoss(p.getValue(), 20);
      System.out.printf("%s: loss %.4f after 20 steps (untrained %.4f)%n", p.getKey(), loss,
          untrained);
      assertTrue(loss < 0.8f * untrained, p.getKey() + ": " + loss + " vs " + untrained);
    }
  }

  @Test
  void shampooThroughTheAdapterTrainsTheModel() {
    float untrained;
    try (LowBitOptimizer o = LowBit.adamW().build();
        TinyMlp mlp = new TinyMlp(o, 3)) {
      untrained = mlp.fullLoss();
    }
    float fp32 = finalLoss(() -> LowBit.shampoo()
        .optStatisticsInterval(5).optInverseRootInterval(20)
        .optLearningRateTracker(Tracker.fixed(3e-3f)).build(), 60);
    float four = finalLoss(() -> LowBit.shampoo4bit()
        .optStatisticsInterval(5).optInverseRootInterval(20)
        .optLearningRateTracker(Tracker.fixed(3e-3f)).build(), 60);
    System.out.printf("Shampoo after 60 steps: untrained %.6f, 32-bit %.6f, 4-bit %.6f%n",
        untrained, fp32, four);
    assertTrue(fp32 < 0.5f * untrained, "32-bit Shampoo " + fp32 + " vs untrained " + untrained);
    assertTrue(four < 0.5f * untrained, "4-bit Shampoo " + four + " vs untrained " + untrained);
  }

  /**
   * Until its first inverse roots (step 500 by default) Shampoo's preconditioners are the
   * identity, so it steps exactly as its base AdamW, in either {@link Semantics}.
   */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.EnumSource(Semantics.class)
  void shampooBeforeItsFirstInverseRootStepsAsItsAdamW(Semantics semantics) {
    GradientAndFailureTest.assertWeightsEqual(
        weightsAfter(3, () -> LowBit.adamW().optSemantics(semantics).build()),
        weightsAfter(3, () -> LowBit.shampoo().optSemantics(semantics).build()));
  }

  @Test
  void quantizedStateIsSmallerThanFloat32State() {
    long fp32 = stateBytes(() -> LowBit.adamW32().build());
    long eight = stateBytes(() -> LowBit.adamW8bit().build());
    long four = stateBytes(() -> LowBit.adamW4bit().build());
    System.out.printf("state bytes: fp32 %d, 8-bit %d, 4-bit %d%n", fp32, eight, four);
    // Weights (256, 32) and (16, 256); the biases (256 + 16 elements) keep float32 m and v.
    long biases = 8L * (TinyMlp.HIDDEN + TinyMlp.OUT);
    assertEquals(8L * (8192 + 4096) + biases, fp32);
    // 8-bit: m and v one byte per element plus a float scale per block of 256.
    assertEquals(2 * (8192 + 32 * 4) + 2 * (4096 + 16 * 4) + biases, eight);
    // 4-bit: m half a byte per element plus a scale per block of 128; v half a byte per element
    // plus rank-1 scales (one float per row and per column).
    long first = (4096 + 64 * 4) + (4096 + 4 * (256 + 32));
    long second = (2048 + 32 * 4) + (2048 + 4 * (16 + 256));
    assertEquals(first + second + biases, four);
    assertEquals(eight, stateBytes(() -> LowBit.adam8bit().build()));
    assertEquals(four, stateBytes(() -> LowBit.adam4bit().build()));
  }

  /**
   * The Adam presets are {@code LowBit.adam()} at that precision: coupled weight decay (the
   * swap from DJL's {@code Optimizer.adam()} keeps the algorithm), unlike the AdamW presets.
   */
  @Test
  void adamPresetsAreAdamAtThatPrecision() {
    float wd = 0.1f;
    java.util.Map<String, float[]> eight = weightsAfter(5,
        () -> LowBit.adam8bit().optWeightDecays(wd).build());
    GradientAndFailureTest.assertWeightsEqual(weightsAfter(5, () -> LowBit.adam()
        .optPrecision(dev.lowbit.optim.Precision.BLOCKWISE_8BIT).optWeightDecays(wd).build()),
        eight);
    GradientAndFailureTest.assertWeightsEqual(weightsAfter(5, () -> LowBit.adam()
        .optPrecision(dev.lowbit.optim.Precision.FOUR_BIT).optWeightDecays(wd).build()),
        weightsAfter(5, () -> LowBit.adam4bit().optWeightDecays(wd).build()));
    java.util.Map<String, float[]> adamW =
        weightsAfter(5, () -> LowBit.adamW8bit().optWeightDecays(wd).build());
    assertTrue(!java.util.Arrays.equals(adamW.get("01Linear_weight"), eight.get("01Linear_weight")),
        "adam8bit stepped like adamW8bit");
  }

  private static java.util.Map<String, float[]> weightsAfter(
      int steps, Supplier<LowBitOptimizer> optimizer) {
    try (LowBitOptimizer o = optimizer.get();
        TinyMlp mlp = new TinyMlp(o, 3)) {
      mlp.trainSteps(0, steps);
      return mlp.weights();
    }
  }

  private static float finalLoss(Supplier<LowBitOptimizer> optimizer) {
    return finalLoss(optimizer, STEPS);
  }

  private static float finalLoss(Supplier<LowBitOptimizer> optimizer, int steps) {
    try (LowBitOptimizer o = optimizer.get();
        TinyMlp mlp = new TinyMlp(o, 3)) {
      mlp.trainSteps(0, steps);
      return mlp.fullLoss();
    }
  }

  private static long stateBytes(Supplier<LowBitOptimizer> optimizer) {
    try (LowBitOptimizer o = optimizer.get();
        TinyMlp mlp = new TinyMlp(o, 3)) {
      mlp.train(0);
      return o.stateBytes();
    }
  }
}
