package dev.lowbit.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.training.tracker.Tracker;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Checkpoints keyed by parameter names resume bit-identically in a new Model and Trainer. */
class CheckpointTest {

  @TempDir Path dir;

  /**
   * The optimizers these tests resume, all with learning rate 1e-2 ({@code ResumeInNewJvmTest}
   * builds them in two JVMs).
   *
   * @param precision {@code 8bit} (8-bit AdamW), {@code 4bit} (4-bit AdamW), {@code shampoo4bit}
   *     (4-bit Shampoo over 8-bit AdamW), {@code shampoo32} (32-bit Shampoo over float32 AdamW,
   *     {@code LowBit.shampoo()}'s default base); both Shampoos as {@link #forShortRuns}; else
   *     float32 AdamW
   * @return a supplier of new optimizers built that way
   */
  static Supplier<LowBitOptimizer> preset(String precision) {
    return switch (precision) {
      case "8bit" -> () -> LowBit.adamW8bit().optLearningRateTracker(Tracker.fixed(1e-2f)).build();
      case "4bit" -> () -> LowBit.adamW4bit().optLearningRateTracker(Tracker.fixed(1e-2f)).build();
      case "shampoo4bit" -> () -> forShortRuns(LowBit.shampoo4bit())
          .optPrecision(dev.lowbit.optim.Precision.BLOCKWISE_8BIT)
          .build();
      case "shampoo32" -> () -> forShortRuns(LowBit.shampoo()).build();
      default -> () -> LowBit.adamW32().optLearningRateTracker(Tracker.fixed(1e-2f)).build();
    };
  }

  /**
   * Learning rate 1e-2, statistics every 2 steps and inverse roots every 4 (instead of 100 and
   * 500), so that a few steps already update both and a resume has to restore them; blocks of at
   * most 64, which cuts each {@link TinyMlp} weight's 256 side into 4 blocks: a checkpoint then
   * holds several blocks per parameter, 4-bit Shampoo still quantizes them (64 x 64 is its
   * smallest quantized size), and the eigendecompositions cost about a sixteenth of one 256 x 256
   * block's, which matters in {@code ResumeInNewJvmTest}'s short-lived child JVM.
   */
  private static LowBit.ShampooBuilder forShortRuns(LowBit.ShampooBuilder builder) {
    return builder
        .optStatisticsInterval(2)
        .optInverseRootInterval(4)
        .optMaxPreconditionerDim(64)
        .optLearningRateTracker(Tracker.fixed(1e-2f));
  }

  @ParameterizedTest
  @ValueSource(strings = {"8bit", "4bit", "shampoo4bit"})
  void resumesBitIdenticallyInANewModelAndTrainer(String precision) throws IOException {
    Path checkpoint = dir.resolve("optimizer.safetensors");
    Map<String, float[]> atSave;
    Map<String, float[]> reference;
    try (LowBitOptimizer optimizer = preset(precision).get();
        TinyMlp mlp = new TinyMlp(optimizer, 1)) {
      mlp.trainSteps(0, 8);
      optimizer.save(mlp.model(), checkpoint);
      atSave = mlp.weights();
      mlp.trainSteps(8, 16);
      reference = mlp.weights();
    }
    String header = header(checkpoint);
    assertTrue(header.contains("\"01Linear_weight/"), header);
    assertFalse(header.contains("uid-"), "runtime ids left in the checkpoint: " + header);

    try (LowBitOptimizer optimizer = preset(precision).get();
        TinyMlp mlp = new TinyMlp(optimizer, 2)) {
      mlp.setWeights(atSave);
      optimizer.load(mlp.model(), checkpoint);
      mlp.trainSteps(8, 16);
      GradientAndFailureTest.assertWeightsEqual(reference, mlp.weights());
      // Once loaded, keys are names, and saving again writes the same layout directly.
      Path again = dir.resolve("again.safetensors");
      optimizer.save(mlp.model(), again);
      assertTrue(header(again).contains("\"01Linear_weight/"));
    }
  }

  /** docs/djl.md's recipe: DJL's model.load before newTrainer, then the optimizer's load. */
  @org.junit.jupiter.api.Test
  void resumesBitIdenticallyFromWeightsSavedTheDjlWay() throws IOException {
    Path checkpoint = dir.resolve("optimizer.safetensors");
    Path modelDir = dir.resolve("model");
    Map<String, float[]> reference;
    try (LowBitOptimizer optimizer = preset("8bit").get();
        TinyMlp mlp = new TinyMlp(optimizer, 1)) {
      mlp.trainSteps(0, 4);
      mlp.model().save(modelDir, "tiny-mlp");
      optimizer.save(mlp.model(), checkpoint);
      mlp.trainSteps(4, 8);
      reference = mlp.weights();
    }
    try (LowBitOptimizer optimizer = preset("8bit").get();
        TinyMlp mlp = TinyMlp.fromSavedWeights(optimizer, modelDir)) {
      optimizer.load(mlp.model(), checkpoint);
      mlp.trainSteps(4, 8);
      GradientAndFailureTest.assertWeightsEqual(reference, mlp.weights());
    }
  }

  @org.junit.jupiter.api.Test
  void namesLearnedAfterTheFirstStepsStillKeyTheCheckpoint() throws IOException {
    Path checkpoint = dir.resolve("late.safetensors");
    try (LowBitOptimizer optimizer = preset("8bit").get();
        TinyMlp mlp = new TinyMlp(optimizer, 1)) {
      mlp.train(0);
      optimizer.bind(mlp.model());
      mlp.train(1);
      optimizer.save(mlp.model(), checkpoint);
    }
    String header = header(checkpoint);
    assertTrue(header.contains("\"03Linear_bias/"), header);
    assertFalse(header.contains("uid-"), "runtime ids left in the checkpoint: " + header);
  }

  @ParameterizedTest
  @ValueSource(strings = {"8bit"})
  void aMismatchedCheckpointIsRefusedAndTheOptimizerKeepsWorking(String precision)
      throws IOException {
    Path checkpoint = dir.resolve("fp32.safetensors");
    try (LowBitOptimizer optimizer = preset("fp32").get();
        TinyMlp mlp = new TinyMlp(optimizer, 1)) {
      mlp.train(0);
      optimizer.save(mlp.model(), checkpoint);
    }
    try (LowBitOptimizer optimizer = preset(precision).get();
        TinyMlp mlp = new TinyMlp(optimizer, 1);
        LowBitOptimizer twin = preset(precision).get();
        TinyMlp reference = new TinyMlp(twin, 1)) {
      mlp.train(0);
      reference.train(0);
      long bytes = optimizer.stateBytes();
      IOException e =
          assertThrows(IOException.class, () -> optimizer.load(mlp.model(), checkpoint));
      assertTrue(e.getMessage().contains("fp32.safetensors"), e.getMessage());
      assertEquals(bytes, optimizer.stateBytes());
      mlp.train(1);
      reference.train(1);
      GradientAndFailureTest.assertWeightsEqual(reference.weights(), mlp.weights());
    }
  }

  /**
   * 8-bit AdamW (learning rate 1e-2, as {@code preset("8bit")}) that keeps every core optimizer it
   * builds, so that a test can see which of them were closed.
   */
  private static final class RecordingAdamW8bit extends LowBitBuilder<RecordingAdamW8bit> {

    final List<dev.lowbit.optim.Optimizer> built = new ArrayList<>();

    RecordingAdamW8bit() {
      super(1e-2f, 0.01f, dev.lowbit.optim.Precision.BLOCKWISE_8BIT);
    }

    @Override
    protected RecordingAdamW8bit self() {
      return this;
    }

    @Override
    dev.lowbit.optim.OptimizerBuilder<?> newCoreBuilder() {
      return dev.lowbit.optim.Optimizers.adamW();
    }

    @Override
    UnaryOperator<dev.lowbit.optim.Optimizer> wrapper() {
      return core -> {
        built.add(core);
        return core;
      };
    }
  }

  /** A closed core refuses even to count steps; an open one counts them or names the key. */
  private static void assertClosed(dev.lowbit.optim.Optimizer core) {
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> core.stepCount("01Linear_weight"));
    assertEquals("optimizer is closed", e.getMessage());
  }

  /**
   * A load builds a new core optimizer and swaps it in. The core state is native memory that
   * nothing but close frees: the core a load replaces is closed, and so is the one a refused load
   * built, while the one in use stays open.
   */
  @org.junit.jupiter.api.Test
  void aLoadClosesTheCoreItReplacesAndARefusedLoadTheCoreItBuilt() throws IOException {
    Path checkpoint = saveUntrained8bit("replaced.safetensors");
    Path mismatched = dir.resolve("fp32.safetensors");
    try (LowBitOptimizer optimizer = preset("fp32").get();
        TinyMlp mlp = new TinyMlp(optimizer, 1)) {
      optimizer.save(mlp.model(), mismatched);
    }
    RecordingAdamW8bit builder = new RecordingAdamW8bit();
    try (LowBitOptimizer optimizer = builder.build();
        TinyMlp mlp = new TinyMlp(optimizer, 1)) {
      mlp.train(0);
      optimizer.load(mlp.model(), checkpoint);
      assertEquals(2, builder.built.size());
      assertClosed(builder.built.get(0));
      mlp.train(1);
      assertThrows(IOException.class, () -> optimizer.load(mlp.model(), mismatched));
      assertEquals(3, builder.built.size());
      assertClosed(builder.built.get(2));
      assertEquals(1, builder.built.get(1).stepCount("01Linear_weight"), "the core in use");
    }
  }

  @org.junit.jupiter.api.Test
  void aCheckpointSavedBeforeTheFirstStepLoadsAndResumesAsAFreshStart() throws IOException {
    Path checkpoint = dir.resolve("fresh.safetensors");
    Map<String, float[]> reference;
    try (LowBitOptimizer optimizer = preset("8bit").get();
        TinyMlp mlp = new TinyMlp(optimizer, 1)) {
      optimizer.save(mlp.model(), checkpoint);
      mlp.trainSteps(0, 4);
      reference = mlp.weights();
    }
    assertTrue(header(checkpoint).contains("\"03Linear_bias/"), header(checkpoint));
    try (LowBitOptimizer optimizer = preset("8bit").get();
        TinyMlp mlp = new TinyMlp(optimizer, 1)) {
      optimizer.load(mlp.model(), checkpoint);
      mlp.trainSteps(0, 4);
      GradientAndFailureTest.assertWeightsEqual(reference, mlp.weights());
    }
  }

  /**
   * A layer frozen after it was trained keeps its state in the checkpoint (as in memory, for when
   * it is unfrozen); the checkpoint loads into the same model, frozen the same way, and the run
   * continues bit-identically after unfreezing.
   */
  @ParameterizedTest
  @ValueSource(strings = {"first layer", "whole model"})
  void aLayerFrozenAfterTrainingKeepsItsStateThroughACheckpoint(String frozen)
      throws IOException {
    Path checkpoint = dir.resolve("frozen.safetensors");
    Map<String, float[]> atSave;
    Map<String, float[]> reference;
    try (LowBitOptimizer optimizer = preset("8bit").get();
        TinyMlp mlp = new TinyMlp(optimizer, 1)) {
      mlp.train(0);
      mlp.train(1);
      frozen(mlp, frozen).freezeParameters(true);
      if (frozen.equals("first layer")) {
        mlp.train(2);
      }
      optimizer.save(mlp.model(), checkpoint);
      atSave = mlp.weights();
      frozen(mlp, frozen).freezeParameters(false);
      mlp.trainSteps(3, 6);
      reference = mlp.weights();
    }
    assertTrue(header(checkpoint).contains("\"01Linear_weight/"), header(checkpoint));
    try (LowBitOptimizer optimizer = preset("8bit").get();
        TinyMlp mlp = new TinyMlp(optimizer, 2)) {
      mlp.setWeights(atSave);
      frozen(mlp, frozen).freezeParameters(true);
      optimizer.load(mlp.model(), checkpoint);
      frozen(mlp, frozen).freezeParameters(false);
      mlp.trainSteps(3, 6);
      GradientAndFailureTest.assertWeightsEqual(reference, mlp.weights());
    }
  }

  /** The block a frozen-layer test freezes: "first layer" or "whole model". */
  private static ai.djl.nn.Block frozen(TinyMlp mlp, String which) {
    ai.djl.nn.Block model = mlp.model().getBlock();
    return which.equals("whole model") ? model : model.getChildren().get(0).getValue();
  }

  @org.junit.jupiter.api.Test
  void aClosedOptimizerRefusesToLoadSaveOrBind() throws IOException {
    Path checkpoint = dir.resolve("closed.safetensors");
    try (LowBitOptimizer optimizer = preset("8bit").get();
        TinyMlp mlp = new TinyMlp(optimizer, 1)) {
      mlp.train(0);
      optimizer.save(mlp.model(), checkpoint);
      optimizer.close();
      for (org.junit.jupiter.api.function.Executable call : java.util.List.<
          org.junit.jupiter.api.function.Executable>of(
          () -> optimizer.load(mlp.model(), checkpoint),
          () -> optimizer.save(mlp.model(), dir.resolve("other.safetensors")),
          () -> optimizer.bind(mlp.model()),
          () -> mlp.train(1),
          // Closed comes first, whatever else is wrong with the call.
          () -> optimizer.update("any", mlp.parameter("03Linear_bias"),
              mlp.parameter("03Linear_bias").expandDims(0)))) {
        IllegalStateException e = assertThrows(IllegalStateException.class, call);
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
      }
      assertFalse(Files.exists(dir.resolve("other.safetensors")));
      assertEquals(0, optimizer.stateBytes(), "close frees the state");
    }
  }

  /**
   * The checkpoint's JSON header (safetensors: an 8-byte little-endian length, then the header).
   *
   * @param file the checkpoint
   * @return the header text
   * @throws IOException if the file cannot be read
   */
  static String header(Path file) throws IOException {
    byte[] bytes = Files.readAllBytes(file);
    long length = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    return new String(bytes, 8, (int) length, StandardCharsets.UTF_8);
  }

  /** Saves the checkpoint of an 8-bit AdamW optimizer and a model that has not stepped yet. */
  private Path saveUntrained8bit(String fileName) throws IOException {
    Path checkpoint = dir.resolve(fileName);
    try (LowBitOptimizer optimizer = preset("8bit").get();
        TinyMlp mlp = new TinyMlp(optimizer, 1)) {
      optimizer.save(mlp.model(), checkpoint);
    }
    return checkpoint;
  }

  /** The checkpoint's informational hyperparameters name the DJL tracker, not an adapter class. */
  @org.junit.jupiter.api.Test
  void theCheckpointNamesTheLearningRateTracker() throws IOException {
    String header = header(saveUntrained8bit("tracker.safetensors"));
    assertTrue(header.contains("schedule djl-tracker:FixedTracker"), header);
  }

  @org.junit.jupiter.api.Test
  void afterALoadErrorsNameTheParametersByTheirModelNames() throws IOException {
    Path checkpoint = saveUntrained8bit("names.safetensors");
    try (LowBitOptimizer optimizer = preset("8bit").get();
        TinyMlp mlp = new TinyMlp(optimizer, 1)) {
      optimizer.load(mlp.model(), checkpoint);
      assertEquals("gradient of parameter '03Linear_bias' has shape (1, 16), the weight (16)",
          mlp.wrongShapeGradientError(optimizer, "03Linear_bias"));
    }
  }

  /**
   * The optimizer of one model trained a second one under runtime ids; binding the second model
   * cannot give its last parameter a name the first model's holds already, and then renames none
   * of its parameters (it undoes the three renames before the refused one): the second model
   * trains on as if bind had not been called.
   */
  @org.junit.jupiter.api.Test
  void aBindThatCannotNameEveryParameterNamesNone() {
    try (LowBitOptimizer optimizer = preset("8bit").get();
        TinyMlp first = new TinyMlp(optimizer, 1);
        TinyMlp second = new TinyMlp(optimizer, 1);
        LowBitOptimizer twin = preset("8bit").get();
        TinyMlp reference = new TinyMlp(twin, 1)) {
      optimizer.bind(first.model());
      second.train(0);
      reference.train(0);
      // DJL updates the parameters in an order of its own, that of their random runtime ids, and
      // bind renames them in that order: the name to take is that of the one updated last.
      List<String> registered = new ArrayList<>(optimizer.inPlaceByKey().keySet());
      String lastId = registered.get(registered.size() - 1);
      String clash = second.model().getBlock().getParameters().stream()
          .filter(p -> p.getValue().getId().equals(lastId))
          .findFirst().orElseThrow().getKey();
      ai.djl.nn.Parameter taken = first.model().getBlock().getParameters().get(clash);
      optimizer.update(taken.getId(), taken.getArray(), taken.getArray().onesLike());
      Map<String, Boolean> before = optimizer.inPlaceByKey();
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> optimizer.bind(second.model()));
      assertTrue(e.getMessage().contains(clash), e.getMessage());
      assertEquals(before, optimizer.inPlaceByKey());
      second.trainSteps(1, 3);
      reference.trainSteps(1, 3);
      GradientAndFailureTest.assertWeightsEqual(reference.weights(), second.weights());
    }
  }

  /** A block with one parameter of the given name, initialized to zeros. */
  private static final class OneParameter extends ai.djl.nn.AbstractBlock {

    OneParameter(String name) {
      addParameter(ai.djl.nn.Parameter.builder().setName(name)
          .setType(ai.djl.nn.Parameter.Type.WEIGHT).optShape(new ai.djl.ndarray.types.Shape(2))
          .build());
    }

    @Override
    protected ai.djl.ndarray.NDList forwardInternal(ai.djl.training.ParameterStore store,
        ai.djl.ndarray.NDList inputs, boolean training,
        ai.djl.util.PairList<String, Object> params) {
      return inputs;
    }

    @Override
    public ai.djl.ndarray.types.Shape[] getOutputShapes(ai.djl.ndarray.types.Shape[] inputs) {
      return inputs;
    }
  }

  /**
   * Names key the checkpoint ({@code name/...}) and a parameter's copies on other devices
   * ({@code name@device}): one holding such separators is refused, naming it and the model.
   */
  @org.junit.jupiter.api.Test
  void aModelWithoutABlockOrWithANameThatCannotBeAKeyIsRefused() {
    try (LowBitOptimizer optimizer = preset("8bit").get();
        ai.djl.Model blockless = ai.djl.Model.newInstance("blockless", "PyTorch");
        ai.djl.Model odd = ai.djl.Model.newInstance("odd", "PyTorch")) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> optimizer.bind(blockless));
      assertEquals("model 'blockless' has no block", e.getMessage());
      odd.setBlock(new OneParameter("w@gpu(1)"));
      e = assertThrows(IllegalArgumentException.class,
          () -> optimizer.save(odd, dir.resolve("odd.safetensors")));
      assertEquals("parameter name 'w@gpu(1)' of model 'odd' holds characters other than "
          + "letters, digits, '_', '.' and '-'", e.getMessage());
      assertFalse(Files.exists(dir.resolve("odd.safetensors")));
    }
  }

  /** Load needs every parameter's array; it names the first missing one and changes nothing. */
  @org.junit.jupiter.api.Test
  void loadingIntoAModelNotYetInitializedNamesTheParameterAndChangesNothing()
      throws IOException {
    Path checkpoint = saveUntrained8bit("initialized.safetensors");
    try (LowBitOptimizer optimizer = preset("8bit").get();
        TinyMlp mlp = new TinyMlp(optimizer, 1);
        ai.djl.Model fresh = ai.djl.Model.newInstance("fresh", "PyTorch")) {
      optimizer.bind(mlp.model());
      mlp.train(0);
      Map<String, Boolean> keys = optimizer.inPlaceByKey();
      long bytes = optimizer.stateBytes();
      fresh.setBlock(new OneParameter("w"));
      IllegalStateException e =
          assertThrows(IllegalStateException.class, () -> optimizer.load(fresh, checkpoint));
      assertEquals("parameter 'w' is not initialized: call trainer.initialize first",
          e.getMessage());
      assertEquals(keys, optimizer.inPlaceByKey());
      assertEquals(bytes, optimizer.stateBytes());
      mlp.train(1);
      assertEquals(keys, optimizer.inPlaceByKey(), "the optimizer in use still trains the model");
    }
  }

  @org.junit.jupiter.api.Test
  void learningNamesAfterTheFirstStepsKeepsTheState() {
    try (LowBitOptimizer late = preset("4bit").get();
        TinyMlp lateMlp = new TinyMlp(late, 1);
        LowBitOptimizer early = preset("4bit").get();
        TinyMlp earlyMlp = new TinyMlp(early, 1)) {
      early.bind(earlyMlp.model());
      for (int step = 0; step < 3; step++) {
        lateMlp.train(step);
        earlyMlp.train(step);
      }
      assertTrue(late.inPlaceByKey().keySet().stream().allMatch(k -> k.startsWith("uid-")),
          late.inPlaceByKey().toString());
      late.bind(lateMlp.model());
      assertEquals(early.inPlaceByKey(), late.inPlaceByKey());
      assertEquals(early.stateBytes(), late.stateBytes());
      for (int step = 3; step < 6; step++) {
        lateMlp.train(step);
        earlyMlp.train(step);
      }
      GradientAndFailureTest.assertWeightsEqual(earlyMlp.weights(), lateMlp.weights());
    }
  }

  /**
   * One optimizer shared by two models trains both (state keyed by DJL's runtime ids, as DJL's
   * own optimizers key it), but a checkpoint call with either model is refused, changing nothing:
   * {@code save} would write the other model's parameters, which {@code load} refuses, and
   * {@code load} would drop their state.
   */
  @org.junit.jupiter.api.Test
  void checkpointCallsAreRefusedWhenTheOptimizerAlsoTrainsAnotherModel() throws IOException {
    Path onlyA = dir.resolve("a.safetensors");
    Path again = dir.resolve("again.safetensors");
    try (LowBitOptimizer optimizer = preset("8bit").get();
        TinyMlp a = new TinyMlp(optimizer, 1);
        TinyMlp b = new TinyMlp(optimizer, 2)) {
      a.trainSteps(0, 3);
      optimizer.save(a.model(), onlyA);
      b.trainSteps(0, 3);
      Map<String, Boolean> keys = optimizer.inPlaceByKey();
      long bytes = optimizer.stateBytes();

      String save = assertThrows(IllegalArgumentException.class,
          () -> optimizer.save(a.model(), again)).getMessage();
      assertTrue(save.contains("which is not a parameter of model 'tiny-mlp'")
          && save.contains("(DJL id uid-") && save.contains("build one per model"), save);
      assertFalse(Files.exists(again), "a refused save wrote " + again);
      String bind = assertThrows(IllegalArgumentException.class,
          () -> optimizer.bind(b.model())).getMessage();
      // Model a's parameters, bound to their names by the first save.
      assertTrue(bind.matches("the optimizer holds state for parameter '0[13]Linear_(weight|bias)'"
          + " \\(DJL id uid-.*"), bind);
      String load = assertThrows(IllegalArgumentException.class,
          () -> optimizer.load(a.model(), onlyA)).getMessage();
      assertTrue(load.contains("not a parameter of model"), load);

      assertEquals(keys, optimizer.inPlaceByKey());
      assertEquals(bytes, optimizer.stateBytes());
      a.train(3);
      b.train(3);
    }
  }
}
