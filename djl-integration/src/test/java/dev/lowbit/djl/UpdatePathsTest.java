package dev.lowbit.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.tracker.Tracker;
import dev.lowbit.kernels.Kernels;
import dev.lowbit.optim.Precision;
import dev.lowbit.optim.shampoo.ShampooPrecision;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link LowBitOptimizer#update} on hand-made tensors: the in-place path, the copy path for
 * views and other dtypes, following a tensor whose storage changed, and the builders' checks.
 */
class UpdatePathsTest {

  private static final float[] GRAD = {0.5f, -1f, 0.25f, 2f, -0.75f, 1.5f};

  /** Three Adam steps on a 2x3 parameter held as {@code weight}, returning its final values. */
  private static float[] threeSteps(Supplier<LowBitOptimizer> optimizer, NDManager m,
      java.util.function.Function<float[], NDArray> makeWeight) {
    float[] start = {1f, 2f, 3f, 4f, 5f, 6f};
    try (LowBitOptimizer o = optimizer.get()) {
      NDArray weight = makeWeight.apply(start);
      for (int step = 0; step < 3; step++) {
        o.update("p", weight, m.create(GRAD, new Shape(2, 3)));
      }
      return weight.toType(DataType.FLOAT32, false).toFloatArray();
    }
  }

  private static Supplier<LowBitOptimizer> adam() {
    return () -> LowBit.adam().optLearningRateTracker(Tracker.fixed(0.1f)).build();
  }

  @Test
  void viewsAndOtherDtypesTakeTheCopyPathWithTheSameResult() {
    try (NDManager m = NDManager.newBaseManager("PyTorch")) {
      float[] direct = threeSteps(adam(), m, v -> m.create(v, new Shape(2, 3)));
      // The same logical 2x3 tensor as a transposed view of a 3x2 base.
      NDArray[] base = new NDArray[1];
      float[] viaView = threeSteps(adam(), m, v -> {
        float[] transposed = new float[6];
        for (int i = 0; i < 2; i++) {
          for (int j = 0; j < 3; j++) {
            transposed[j * 2 + i] = v[i * 3 + j];
          }
        }
        base[0] = m.create(transposed, new Shape(3, 2));
        NDArray view = base[0].transpose();
        assertNull(TensorMemory.ownMemory(view), "a transposed view is not contiguous");
        return view;
      });
      float[] viaDouble = threeSteps(adam(), m,
          v -> m.create(v, new Shape(2, 3)).toType(DataType.FLOAT64, false));
      assertArrayEquals(direct, viaView);
      assertArrayEquals(direct, base[0].transpose().toFloatArray());
      // float64 storage rounds each step's result to double and back: equal to float precision.
      assertArrayEquals(direct, viaDouble, 1e-6f);
      assertTrue(direct[0] < 1f, "the step moved the weight");
    }
  }

  @Test
  void aTrainersParametersAreSteppedInTheirOwnMemory() {
    try (LowBitOptimizer o = LowBit.adamW8bit().build();
        TinyMlp mlp = new TinyMlp(o, 1)) {
      o.bind(mlp.model());
      mlp.train(0);
      assertEquals(
          java.util.Map.of("01Linear_weight", true, "01Linear_bias", true,
              "03Linear_weight", true, "03Linear_bias", true),
          o.inPlaceByKey());
    }
  }

  @Test
  void aReplacedTensorKeepsItsState() {
    try (NDManager m = NDManager.newBaseManager("PyTorch")) {
      float[] sameTensor = threeSteps(adam(), m, v -> m.create(v, new Shape(2, 3)));
      try (LowBitOptimizer o = adam().get()) {
        NDArray weight = m.create(new float[] {1f, 2f, 3f, 4f, 5f, 6f}, new Shape(2, 3));
        o.update("p", weight, m.create(GRAD, new Shape(2, 3)));
        // DJL replaces a parameter's array, for example when parameters are loaded again.
        NDArray replaced = weight.duplicate();
        o.update("p", replaced, m.create(GRAD, new Shape(2, 3)));
        o.update("p", replaced, m.create(GRAD, new Shape(2, 3)));
        assertArrayEquals(sameTensor, replaced.toFloatArray());
      }
    }
  }

  @Test
  void aTensorWhoseStorageWasSwappedIsSteppedInItsNewStorage() {
    try (NDManager m = NDManager.newBaseManager("PyTorch")) {
      float[] sameTensor = threeSteps(adam(), m, v -> m.create(v, new Shape(2, 3)));
      try (LowBitOptimizer o = adam().get()) {
        NDArray weight = m.create(new float[] {1f, 2f, 3f, 4f, 5f, 6f}, new Shape(2, 3));
        o.update("p", weight, m.create(GRAD, new Shape(2, 3)));
        // The same NDArray object, now over other storage holding the same values.
        weight.intern(weight.duplicate());
        o.update("p", weight, m.create(GRAD, new Shape(2, 3)));
        o.update("p", weight, m.create(GRAD, new Shape(2, 3)));
        assertArrayEquals(sameTensor, weight.toFloatArray());
        assertTrue(o.inPlaceByKey().get("p"), "the new storage is stepped in place");
      }
    }
  }

  /**
   * In place (float32) and through a copy (float64): the copy path steps a staging array of its
   * own, which a tensor of the same size would fit, so only the shape check stops it.
   */
  @ParameterizedTest
  @EnumSource(value = DataType.class, names = {"FLOAT32", "FLOAT64"})
  void aTensorReplacedByAnotherShapeIsRefusedAndTheStateKept(DataType dtype) {
    try (NDManager m = NDManager.newBaseManager("PyTorch")) {
      float[] sameTensor =
          threeSteps(adam(), m, v -> m.create(v, new Shape(2, 3)).toType(dtype, false));
      try (LowBitOptimizer o = adam().get()) {
        NDArray weight = m.create(new float[] {1f, 2f, 3f, 4f, 5f, 6f}, new Shape(2, 3))
            .toType(dtype, false);
        o.update("p", weight, m.create(GRAD, new Shape(2, 3)));
        NDArray reshaped = weight.duplicate().reshape(3, 2);
        double[] replacedBefore = reshaped.toType(DataType.FLOAT64, false).toDoubleArray();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> o.update("p", reshaped, m.create(GRAD, new Shape(3, 2))));
        assertTrue(e.getMessage().contains("(DJL id p)") && e.getMessage().contains("(3, 2)"),
            e.getMessage());
        assertArrayEquals(
            replacedBefore, reshaped.toType(DataType.FLOAT64, false).toDoubleArray());
        o.update("p", weight, m.create(GRAD, new Shape(2, 3)));
        o.update("p", weight, m.create(GRAD, new Shape(2, 3)));
        assertArrayEquals(sameTensor, weight.toType(DataType.FLOAT32, false).toFloatArray());
      }
    }
  }

  @Test
  void aGradientOfAnotherShapeIsRefusedNamingTheParameter() {
    try (NDManager m = NDManager.newBaseManager("PyTorch");
        LowBitOptimizer o = adam().get()) {
      NDArray weight = m.zeros(new Shape(2, 3));
      for (Shape other : new Shape[] {new Shape(3), new Shape(3, 2)}) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> o.update("p", weight, m.ones(other)));
        assertTrue(
            e.getMessage().contains("(DJL id p)") && e.getMessage().contains(other.toString()),
            e.getMessage());
        assertFalse(e.getMessage().contains("'null'"), "an unnamed tensor: " + e.getMessage());
      }
      assertArrayEquals(new float[6], weight.toFloatArray());
      assertEquals(0, o.stateBytes());
    }
  }

  @Test
  void afterBindAnErrorNamesTheParameterByItsModelName() {
    try (LowBitOptimizer o = adam().get();
        TinyMlp mlp = new TinyMlp(o, 1)) {
      o.bind(mlp.model());
      assertEquals("gradient of parameter '03Linear_bias' has shape (1, 16), the weight (16)",
          mlp.wrongShapeGradientError(o, "03Linear_bias"));
    }
  }

  @Test
  void anIntegerWeightIsRefusedBeforeAnythingIsWritten() {
    try (NDManager m = NDManager.newBaseManager("PyTorch");
        LowBitOptimizer o = adam().get()) {
      NDArray weight = m.create(new int[] {1, 2, 3});
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> o.update("p", weight, m.create(new float[] {1f, 1f, 1f})));
      assertTrue(e.getMessage().contains("(DJL id p)") && e.getMessage().contains("int32"),
          e.getMessage());
      assertArrayEquals(new int[] {1, 2, 3}, weight.toIntArray());
      assertEquals(0, o.stateBytes());
    }
  }

  @Test
  void aTensorThatCannotBeWrittenIsRefusedBeforeTheStateMoves() {
    try (NDManager m = NDManager.newBaseManager("PyTorch");
        LowBitOptimizer o = adam().get()) {
      // A broadcast view: its six elements share the memory of three.
      NDArray weight = m.create(new float[] {1f, 2f, 3f}, new Shape(1, 3)).broadcast(2, 3);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> o.update("p", weight, m.create(GRAD, new Shape(2, 3))));
      assertTrue(e.getMessage().contains("(DJL id p)")
          && e.getMessage().contains("the engine refuses to write it in place"), e.getMessage());
      assertArrayEquals(new float[] {1f, 2f, 3f, 1f, 2f, 3f}, weight.toFloatArray());
      assertEquals(0, o.stateBytes(), "nothing was registered");
    }
  }

  @Test
  void aSkippedStepLeavesAFloat64WeightExactlyAsItWas() {
    try (NDManager m = NDManager.newBaseManager("PyTorch");
        LowBitOptimizer o = LowBit.adam()
            .optNonFinitePolicy(dev.lowbit.optim.NonFinitePolicy.SKIP).build()) {
      double[] start = {0.1, 1.0 / 3, Math.PI};
      NDArray weight = m.create(start);
      o.update("p", weight, m.create(new double[] {Double.NaN, 1, 1}));
      assertEquals(1, o.skippedSteps());
      assertArrayEquals(start, weight.toDoubleArray());
    }
  }

  @Test
  void aBadLearningRateNamesTheParameterAndWritesNothing() {
    try (NDManager m = NDManager.newBaseManager("PyTorch");
        LowBitOptimizer o = LowBit.adam().optLearningRateTracker(Tracker.fixed(Float.NaN))
            .build()) {
      NDArray weight = m.create(new float[] {1f, 2f, 3f, 4f, 5f, 6f}, new Shape(2, 3));
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> o.update("p", weight, m.create(GRAD, new Shape(2, 3))));
      // The core's message names its key, here DJL's id: the adapter puts its label there.
      assertEquals("learning-rate schedule returned NaN for step 1 of parameter (2, 3) (DJL id p);"
          + " it must be finite and >= 0", e.getMessage());
      assertArrayEquals(new float[] {1f, 2f, 3f, 4f, 5f, 6f}, weight.toFloatArray());
    }
  }

  @Test
  void theTrackerIsAskedOncePerUpdate() {
    java.util.List<Integer> asked = new java.util.ArrayList<>();
    ai.djl.training.tracker.ParameterTracker counting = (parameterId, numUpdate) -> {
      asked.add(numUpdate);
      return 0.1f;
    };
    try (NDManager m = NDManager.newBaseManager("PyTorch");
        LowBitOptimizer o = LowBit.adamW8bit().optLearningRateTracker(counting).build()) {
      NDArray weight = m.create(new float[] {1f, 2f, 3f, 4f, 5f, 6f}, new Shape(2, 3));
      for (int step = 0; step < 3; step++) {
        o.update("p", weight, m.create(GRAD, new Shape(2, 3)));
      }
    }
    assertEquals(java.util.List.of(1, 2, 3), asked);
  }

  @Test
  void theTrackerIsAskedForEachParameterByItsId() {
    java.util.List<String> asked = new java.util.ArrayList<>();
    ai.djl.training.tracker.ParameterTracker recording = (parameterId, numUpdate) -> {
      asked.add(parameterId + " at " + numUpdate);
      return 0.1f;
    };
    try (NDManager m = NDManager.newBaseManager("PyTorch");
        LowBitOptimizer o = LowBit.adam().optLearningRateTracker(recording).build()) {
      NDArray a = m.create(new float[] {1f, 2f, 3f, 4f, 5f, 6f}, new Shape(2, 3));
      NDArray b = a.duplicate();
      for (String id : new String[] {"a", "b", "a"}) {
        o.update(id, id.equals("a") ? a : b, m.create(GRAD, new Shape(2, 3)));
      }
    }
    assertEquals(java.util.List.of("a at 1", "b at 1", "a at 2"), asked);
  }

  /** Each error starts with the builder method the user called, not the core's name for it. */
  @Test
  void buildersRefuseBadOptionsNamingThem() {
    assertMessage("optClipGrad", () -> LowBit.adam().optClipGrad(0f).build());
    assertMessage("setRescaleGrad", () -> LowBit.adam().setRescaleGrad(0f).build());
    assertMessage("optBeta1", () -> LowBit.adam().optBeta1(1f).build());
    assertMessage("optEpsilon", () -> LowBit.adam().optEpsilon(-1f).build());
    assertMessage("optMomentum", () -> LowBit.sgd().optMomentum(1.5f).build());
    assertMessage("optNesterov", () -> LowBit.sgd().optNesterov(true).build());
    assertMessage("optThreads", () -> LowBit.adamW8bit().optThreads(0).build());
    assertMessage("optMinQuantizedSize",
        () -> LowBit.adamW8bit().optMinQuantizedSize(-1).build());
    assertMessage("optBeginNumUpdate", () -> LowBit.adam().optBeginNumUpdate(10));
    assertMessage("optWeightDecays", () -> LowBit.adamW().optWeightDecays(-0.1f).build());
    assertMessage("optClipGrad",
        () -> LowBit.adam().optClipGrad(Float.POSITIVE_INFINITY).build());
    assertMessage("optShampooEpsilon",
        () -> LowBit.shampoo().optShampooEpsilon(Double.NaN).build());
    assertMessage("optOverride", () -> LowBit.adamW8bit().optOverride("(", Precision.FP32).build());
    assertMessage("optBeta2", () -> LowBit.adam().optBeta2(1f).build());
    assertMessage("optMaxPreconditionerDim", () -> LowBit.shampoo()
        .optShampooPrecision(ShampooPrecision.FOUR_BIT).optMaxPreconditionerDim(0).build());
    assertMessage("optStatisticsInterval",
        () -> LowBit.shampoo().optStatisticsInterval(0).build());
    assertMessage("optInverseRootInterval",
        () -> LowBit.shampoo4bit().optInverseRootInterval(-1).build());
    // Under DJL semantics with clipping the adapter rescales the gradient itself, so the core
    // never sees this 0: the adapter's own check must refuse it.
    assertMessage("setRescaleGrad", () -> LowBit.adam().setRescaleGrad(0f).optClipGrad(1f)
        .optSemantics(Semantics.DJL).build());
    NullPointerException e = assertThrows(NullPointerException.class,
        () -> LowBit.shampoo().optShampooPrecision(null));
    assertTrue(e.getMessage().contains("shampooPrecision"), e.getMessage());
  }

  @Test
  void buildersAcceptTheBoundaryValuesTheyDocument() {
    LowBit.AdamBuilder adam = LowBit.adam();
    assertSame(adam, adam.optBeginNumUpdate(0));
    try (LowBitOptimizer shampoo = assertDoesNotThrow(
        () -> LowBit.shampoo().optShampooEpsilon(0).build())) {
      assertEquals(Semantics.TEXTBOOK, shampoo.semantics());
    }
    try (LowBitOptimizer sgd = LowBit.sgd().optSemantics(Semantics.DJL).build()) {
      assertEquals(Semantics.DJL, sgd.semantics());
    }
  }

  /** -Ddev.lowbit.kernels.threads is the default here too, as for the core; optThreads wins. */
  @Test
  void theThreadsPropertySetsTheDefaultAndOptThreadsOverridesIt() {
    String saved = System.getProperty(Kernels.THREADS_PROPERTY);
    try {
      System.setProperty(Kernels.THREADS_PROPERTY, "3");
      try (LowBitOptimizer byProperty = LowBit.adamW8bit().build();
          LowBitOptimizer shampoo = LowBit.shampoo4bit().build();
          LowBitOptimizer chosen = LowBit.sgd().optThreads(5).build()) {
        assertEquals(3, byProperty.threads());
        assertEquals(3, shampoo.threads());
        assertEquals(5, chosen.threads());
      }
      System.clearProperty(Kernels.THREADS_PROPERTY);
      try (LowBitOptimizer unset = LowBit.adamW8bit().build()) {
        assertEquals(Runtime.getRuntime().availableProcessors(), unset.threads());
      }
    } finally {
      if (saved == null) {
        System.clearProperty(Kernels.THREADS_PROPERTY);
      } else {
        System.setProperty(Kernels.THREADS_PROPERTY, saved);
      }
    }
  }

  @Test
  void nesterovMomentumStepsAlongTheGradientPlusTheMomentum() {
    float[] start = {1f, 2f, 3f, 4f, 5f, 6f};
    try (NDManager m = NDManager.newBaseManager("PyTorch");
        LowBitOptimizer o = LowBit.sgdMomentum32().optNesterov(true)
            .setLearningRateTracker(Tracker.fixed(0.1f)).build()) {
      NDArray weight = m.create(start, new Shape(2, 3));
      o.update("p", weight, m.create(GRAD, new Shape(2, 3)));
      // b = g, w = w - lr * (g + momentum * b): 1.9 gradients (plain momentum: one).
      float[] expected = new float[6];
      for (int i = 0; i < 6; i++) {
        expected[i] = start[i] - 0.1f * 1.9f * GRAD[i];
      }
      assertArrayEquals(expected, weight.toFloatArray(), 1e-6f);
    }
  }

  @Test
  void overridesNeedTheModelsNames() {
    try (NDManager m = NDManager.newBaseManager("PyTorch");
        LowBitOptimizer o = LowBit.adamW8bit().optOverride(".*bias", Precision.FP32).build()) {
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> o.update("p", m.zeros(new Shape(4)), m.zeros(new Shape(4))));
      assertTrue(e.getMessage().contains("bind(model)"), e.getMessage());
    }
  }

  @Test
  void overridesApplyByName() {
    long pinned;
    long unpinned;
    try (LowBitOptimizer o = LowBit.adamW8bit().optOverride("01Linear_weight", Precision.FP32)
            .build();
        TinyMlp mlp = new TinyMlp(o, 1)) {
      o.bind(mlp.model());
      mlp.train(0);
      pinned = o.stateBytes();
    }
    try (LowBitOptimizer o = LowBit.adamW8bit().build();
        TinyMlp mlp = new TinyMlp(o, 1)) {
      mlp.train(0);
      unpinned = o.stateBytes();
    }
    // 01Linear_weight (8192 elements) in float32: 8 bytes per element instead of 2 + scales.
    assertEquals(unpinned + 8L * 8192 - 2 * (8192 + 32 * 4), pinned);
  }

  private static void assertMessage(String option, Runnable build) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, build::run);
    // The name as a word: "optBeta1 must be ...", "optBeginNumUpdate(10) is ...".
    assertTrue(e.getMessage().matches(java.util.regex.Pattern.quote(option) + "\\b.*"),
        option + ": " + e.getMessage());
  }
}
