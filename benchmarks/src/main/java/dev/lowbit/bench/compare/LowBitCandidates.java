package dev.lowbit.bench.compare;

import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import dev.lowbit.djl.LowBit;
import dev.lowbit.djl.LowBitBuilder;
import dev.lowbit.djl.LowBitOptimizer;
import dev.lowbit.optim.Optimizers;
import dev.lowbit.optim.Precision;
import dev.lowbit.optim.StateFormat;
import dev.lowbit.optim.shampoo.Shampoo;
import dev.lowbit.optim.shampoo.ShampooPrecision;
import java.util.function.DoubleFunction;
import java.util.function.Supplier;

/**
 * The LowBit optimizers, through the DJL adapter ({@link LowBit}, {@link LowBitOptimizer}), with
 * the presets' defaults (AdamW: weight decay 0.01, betas 0.9 / 0.999, epsilon 1e-8; SGD: momentum
 * 0.9).
 */
final class LowBitCandidates {

  /** What the state-bytes column reports for LowBit optimizers. */
  private static final String SOURCE = "LowBitOptimizer.stateBytes() (the core's exact count)";

  /** Shampoo's statistics interval T1 (docs/algorithms.md section 5, small vision models). */
  static final int SHAMPOO_STATISTICS_INTERVAL = 100;

  /** Shampoo's inverse-root interval T2: its first roots are computed at this step. */
  static final int SHAMPOO_ROOT_INTERVAL = 500;

  private LowBitCandidates() {}

  /**
   * Adds every LowBit optimizer this build has.
   *
   * @param catalog the catalog to add to
   */
  static void addTo(OptimizerCatalog catalog) {
    catalog.add(lowBit("adamw32", "LowBit AdamW, float32 m and v", 1e-3, LowBit::adamW32));
    catalog.add(
        lowBit(
            "adamw8bit",
            "LowBit AdamW, 8-bit block-wise m and v (B = 256)",
            1e-3,
            LowBit::adamW8bit));
    catalog.add(
        lowBit(
            "adamw4bit",
            "LowBit AdamW, 4-bit m (DE, B = 128) and rank-1 v (Linear)",
            1e-3,
            LowBit::adamW4bit));
    catalog.add(
        lowBit(
            "adamw4bit-factorized",
            "LowBit AdamW, 4-bit m and factorized float32 v",
            1e-3,
            LowBit::adamW4bitFactorized));
    catalog.add(
        lowBit(
            "sgdm8bit",
            "LowBit SGD with momentum 0.9, 8-bit block-wise buffer",
            0.05,
            LowBit::sgdMomentum8bit));
    catalog.add(
        ablation(
            "adamw4bit-m",
            "Ablation: LowBit AdamW with only m in 4 bits (as adamw4bit), float32 v",
            Precision.FOUR_BIT.firstMoment(),
            StateFormat.float32()));
    catalog.add(
        ablation(
            "adamw4bit-v",
            "Ablation: LowBit AdamW with float32 m, only v in 4 bits (as adamw4bit)",
            StateFormat.float32(),
            Precision.FOUR_BIT.secondMoment()));
    catalog.add(
        shampoo(
            "shampoo32",
            "LowBit Shampoo, float32 preconditioners, over float32 AdamW (T1 = 100, T2 = 500)",
            ShampooPrecision.FP32));
    catalog.add(
        shampoo(
            "shampoo4bit",
            "LowBit Shampoo, 4-bit eigenvector preconditioners, over float32 AdamW (T1 = 100,"
                + " T2 = 500)",
            ShampooPrecision.FOUR_BIT));
  }

  /**
   * An ablation: AdamW with custom formats for m and v, through the copying bridge (the DJL
   * builders take precisions, not formats). Not in the default run.
   */
  private static Candidate ablation(
      String name, String description, StateFormat m, StateFormat v) {
    return bridged(
        name,
        description,
        lr -> Optimizers.adamW().learningRate((float) lr).stateFormats(m, v).build(),
        "Optimizer.stateBytes() (the core's exact count; DJL bridge by copy)",
        false,
        1);
  }

  private static Candidate shampoo(String name, String description, ShampooPrecision precision) {
    return bridged(
        name,
        description,
        lr ->
            Shampoo.builder(Optimizers.adamW32().learningRate((float) lr).build())
                .precision(precision)
                .statisticsInterval(SHAMPOO_STATISTICS_INTERVAL)
                .inverseRootInterval(SHAMPOO_ROOT_INTERVAL)
                .build(),
        "Shampoo.stateBytes() (preconditioners and the base AdamW's m and v; DJL bridge by"
            + " copy)",
        true,
        // Until its first inverse roots, Shampoo preconditions with the identity: AdamW's steps.
        SHAMPOO_ROOT_INTERVAL);
  }

  /** A core optimizer (learning rate 1e-3 by default) driven through the copying bridge. */
  private static Candidate bridged(
      String name,
      String description,
      DoubleFunction<dev.lowbit.optim.Optimizer> core,
      String stateBytesSource,
      boolean inDefaultRun,
      long firstOwnStep) {
    return new Candidate(
        name,
        description,
        1e-3,
        lr -> new CoreOptimizerBridge(core.apply(lr)),
        optimizer -> ((CoreOptimizerBridge) optimizer).stateBytes(),
        stateBytesSource,
        inDefaultRun,
        firstOwnStep);
  }

  private static Candidate lowBit(
      String name,
      String description,
      double defaultLearningRate,
      Supplier<? extends LowBitBuilder<?>> preset) {
    return new Candidate(
        name,
        description,
        defaultLearningRate,
        lr -> preset.get().optLearningRateTracker(Tracker.fixed((float) lr)).build(),
        LowBitCandidates::stateBytes,
        SOURCE,
        true);
  }

  private static long stateBytes(Optimizer optimizer) {
    return ((LowBitOptimizer) optimizer).stateBytes();
  }
}
