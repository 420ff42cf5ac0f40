package dev.lowbit.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.util.Pair;
import dev.lowbit.optim.NonFiniteGradientException;
import dev.lowbit.optim.NonFinitePolicy;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Gradients are cleared after each step; a non-finite gradient writes nothing. */
class GradientAndFailureTest {

  @Test
  void everyGradientIsZeroAfterTheStep() {
    try (LowBitOptimizer optimizer = LowBit.adamW8bit().build();
        TinyMlp mlp = new TinyMlp(optimizer, 1)) {
      for (int step = 0; step < 3; step++) {
        mlp.backward(step);
        for (Pair<String, Parameter> p : mlp.model().getBlock().getParameters()) {
          assertTrue(maxAbs(p.getValue().getArray().getGradient()) > 0, p.getKey());
        }
        mlp.trainer().step();
        for (Pair<String, Parameter> p : mlp.model().getBlock().getParameters()) {
          assertEquals(0f, maxAbs(p.getValue().getArray().getGradient()), p.getKey());
        }
      }
    }
  }

  @Test
  void nonFiniteGradientUnderThrowLeavesTheModelAndTheStateUntouched() {
    Map<String, float[]> reference;
    try (LowBitOptimizer optimizer = LowBit.adamW8bit().optLearningRateTracker(
            ai.djl.training.tracker.Tracker.fixed(1e-2f)).build();
        TinyMlp mlp = new TinyMlp(optimizer, 1)) {
      mlp.trainSteps(0, 6);
      reference = mlp.weights();
    }
    try (LowBitOptimizer optimizer = LowBit.adamW8bit().optLearningRateTracker(
            ai.djl.training.tracker.Tracker.fixed(1e-2f)).build();
        TinyMlp mlp = new TinyMlp(optimizer, 1)) {
      mlp.trainSteps(0, 3);
      Map<String, float[]> before = mlp.weights();
      mlp.backward(99);
      for (Pair<String, Parameter> p : mlp.model().getBlock().getParameters()) {
        p.getValue().getArray().getGradient().set(new NDIndex("0"), Float.NaN);
      }
      NonFiniteGradientException e =
          assertThrows(NonFiniteGradientException.class, () -> mlp.trainer().step());
      assertEquals(0, e.index());
      assertWeightsEqual(before, mlp.weights());
      // The bad batch never reached the state: after clearing the gradients, training goes on
      // exactly as if it had not happened.
      LowBitOptimizer.zeroGradients(mlp.model());
      mlp.trainSteps(3, 6);
      assertWeightsEqual(reference, mlp.weights());
    }
  }

  @Test
  void errorNamesTheParameterAndItsGradientStaysForInspection() {
    try (LowBitOptimizer optimizer = LowBit.adamW().build();
        TinyMlp mlp = new TinyMlp(optimizer, 1)) {
      optimizer.bind(mlp.model());
      mlp.train(0);
      mlp.backward(1);
      NDArray weight = mlp.parameter("03Linear_weight");
      float[] before = weight.toFloatArray();
      weight.getGradient().set(new NDIndex("1, 2"), Float.POSITIVE_INFINITY);
      NonFiniteGradientException e =
          assertThrows(NonFiniteGradientException.class, () -> mlp.trainer().step());
      assertEquals("03Linear_weight", e.parameterName());
      assertEquals(TinyMlp.HIDDEN + 2, e.index());
      assertArrayEquals(before, weight.toFloatArray());
      assertEquals(Float.POSITIVE_INFINITY, weight.getGradient().getFloat(1, 2));
    }
  }

  @Test
  void withoutNamesTheErrorShowsDjlsIdAndShape() {
    try (LowBitOptimizer optimizer = LowBit.adamW().build();
        TinyMlp mlp = new TinyMlp(optimizer, 1)) {
      mlp.backward(0);
      for (Pair<String, Parameter> p : mlp.model().getBlock().getParameters()) {
        p.getValue().getArray().getGradient().set(new NDIndex("0"), Float.NaN);
      }
      NonFiniteGradientException e =
          assertThrows(NonFiniteGradientException.class, () -> mlp.trainer().step());
      assertTrue(e.getMessage().startsWith("gradient of parameter '")
          && e.getMessage().contains("DJL id uid-"), e.getMessage());
      assertTrue(!e.getMessage().contains("''"), "doubled quotes: " + e.getMessage());
      assertTrue(e.parameterName().contains("(DJL id uid-"), e.parameterName());
    }
  }

  @Test
  void withoutNamesTheErrorDescribesAHandMadeTensorByItsNameShapeAndId() {
    try (NDManager m = NDManager.newBaseManager("PyTorch");
        LowBitOptimizer optimizer = LowBit.adam().build()) {
      NDArray weight = m.zeros(new Shape(2, 3));
      NDArray bad = m.create(new float[] {0, Float.NaN, 0, 0, 0, 0}, new Shape(2, 3));
      assertEquals("(2, 3) (DJL id p)", assertThrows(NonFiniteGradientException.class,
          () -> optimizer.update("p", weight, bad)).parameterName());
      weight.setName("w");
      assertEquals("w (2, 3) (DJL id q)", assertThrows(NonFiniteGradientException.class,
          () -> optimizer.update("q", weight, bad)).parameterName());
    }
  }

  /** A float64 weight's gradient is not float32 memory the kernels can clear: cleared after. */
  @Test
  void aGradientTheKernelsCannotClearIsClearedAfterTheStep() {
    try (NDManager m = NDManager.newBaseManager("PyTorch");
        LowBitOptimizer optimizer = LowBit.adam().build()) {
      NDArray weight = m.create(new double[] {1, 2, 3});
      weight.setRequiresGradient(true);
      try (GradientCollector collector = Engine.getEngine("PyTorch").newGradientCollector()) {
        collector.backward(weight.mul(weight).sum());
      }
      assertArrayEquals(new double[] {2, 4, 6}, weight.getGradient().toDoubleArray());
      optimizer.update("p", weight, weight.getGradient().duplicate());
      assertArrayEquals(new double[3], weight.getGradient().toDoubleArray());
      assertTrue(weight.toDoubleArray()[0] < 1, "the step moved the weight");
    }
  }

  @Test
  void skipPolicySkipsTheBadParameterClearsItsGradientAndStepsTheOthers() {
    try (LowBitOptimizer optimizer =
            LowBit.adamW().optNonFinitePolicy(NonFinitePolicy.SKIP).build();
        TinyMlp mlp = new TinyMlp(optimizer, 1)) {
      mlp.train(0);
      Map<String, float[]> before = mlp.weights();
      mlp.backward(1);
      mlp.parameter("01Linear_bias").getGradient().set(new NDIndex("3"), Float.NaN);
      mlp.trainer().step();
      assertEquals(1, optimizer.skippedSteps());
      Map<String, float[]> after = mlp.weights();
      assertArrayEquals(before.get("01Linear_bias"), after.get("01Linear_bias"));
      assertFalse(
          java.util.Arrays.equals(before.get("01Linear_weight"), after.get("01Linear_weight")));
      assertEquals(0f, maxAbs(mlp.parameter("01Linear_bias").getGradient()));
    }
  }

  private static float maxAbs(NDArray array) {
    return array.abs().max().getFloat();
  }

  static void assertWeightsEqual(Map<String, float[]> expected, Map<String, float[]> actual) {
    assertWeightsEqual(expected, actual, "");
  }

  /**
   * Every parameter of {@code actual} equals {@code expected} exactly; a failure names the
   * parameter after {@code context} (for example which run it compares, when the test's name does
   * not say it).
   */
  static void assertWeightsEqual(
      Map<String, float[]> expected, Map<String, float[]> actual, String context) {
    assertEquals(expected.keySet(), actual.keySet(), context);
    for (String name : expected.keySet()) {
      assertArrayEquals(expected.get(name), actual.get(name), context + name);
    }
  }
}
