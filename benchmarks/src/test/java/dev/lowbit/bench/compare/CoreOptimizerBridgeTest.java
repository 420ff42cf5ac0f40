package dev.lowbit.bench.compare;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.lowbit.optim.Optimizer;
import dev.lowbit.optim.Optimizers;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Updating a DJL tensor through the bridge gives exactly the weights the core optimizer computes
 * on a plain array, writes them into the tensor the model holds, and leaves its gradient zero.
 */
class CoreOptimizerBridgeTest {

  @Test
  void bridgedStepsEqualTheCoreOnArraysAndClearTheGradient() {
    int rows = 64;
    int cols = 96;
    Random random = new Random(7);
    float[] start = new float[rows * cols];
    for (int i = 0; i < start.length; i++) {
      start[i] = (float) random.nextGaussian() * 0.05f;
    }
    float[] expected = start.clone();
    try (NDManager manager = NDManager.newBaseManager("PyTorch");
        Optimizer reference = Optimizers.adamW8bit().learningRate(1e-2f).build();
        CoreOptimizerBridge bridge =
            new CoreOptimizerBridge(Optimizers.adamW8bit().learningRate(1e-2f).build())) {
      reference.register("w", new long[] {rows, cols}, expected);
      NDArray weight = manager.create(start.clone(), new Shape(rows, cols));
      weight.setRequiresGradient(true);
      for (int step = 0; step < 5; step++) {
        float[] g = new float[start.length];
        for (int i = 0; i < g.length; i++) {
          g[i] = (float) random.nextGaussian() * 1e-2f;
        }
        reference.step("w", g.clone());
        // d(sum(w * g))/dw = g: a real backward pass, so the gradient lives where DJL keeps it.
        try (GradientCollector collector = manager.getEngine().newGradientCollector()) {
          collector.backward(weight.mul(manager.create(g, weight.getShape())).sum());
        }
        bridge.update("w", weight, weight.getGradient());
        assertArrayEquals(expected, weight.toFloatArray(), "weights after step " + (step + 1));
        assertEquals(0f, weight.getGradient().abs().sum().getFloat(), "gradient not cleared");
      }
      assertEquals(reference.stateBytes(), bridge.stateBytes());
    }
  }

  @Test
  void aWeightWrittenByOthersBetweenStepsIsSteppedFromItsNewValue() {
    float[] expected = new float[4096];
    Arrays.fill(expected, 0.5f);
    float[] g = new float[4096];
    Arrays.fill(g, 1e-2f);
    try (NDManager manager = NDManager.newBaseManager("PyTorch");
        Optimizer reference = Optimizers.adamW32().learningRate(1e-2f).build();
        CoreOptimizerBridge bridge =
            new CoreOptimizerBridge(Optimizers.adamW32().learningRate(1e-2f).build())) {
      reference.register("w", new long[] {4096}, expected);
      NDArray weight = manager.create(expected.clone(), new Shape(4096));
      reference.step("w", g.clone());
      bridge.update("w", weight, manager.create(g));
      // Someone else (DJL, a checkpoint load) writes the weight: both continue from 2.0.
      Arrays.fill(expected, 2f);
      weight.set(new NDIndex(":"), 2f);
      reference.step("w", g.clone());
      bridge.update("w", weight, manager.create(g));
      assertArrayEquals(expected, weight.toFloatArray());
    }
  }
}
