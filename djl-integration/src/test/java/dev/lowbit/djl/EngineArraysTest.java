package dev.lowbit.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.core.Linear;
import ai.djl.training.GradientCollector;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine arrays the adapter creates while it looks at a tensor (its gradient's handle,
 * copies of views and of other dtypes, the clipped gradient) die with the call: none is left in
 * the manager of the tensors it was given. Those managers are the model's and the trainer's,
 * which live for the whole training, so one left per update would pile up every step.
 */
class EngineArraysTest {

  @TempDir Path dir;

  /** A float64 weight with a gradient of its own: the copy path, cleared after the step. */
  private static NDArray float64WeightWithGradient(NDManager manager) {
    NDArray weight = manager.create(new double[] {1, 2, 3, 4, 5, 6}, new Shape(2, 3));
    weight.setRequiresGradient(true);
    try (GradientCollector collector = Engine.getEngine("PyTorch").newGradientCollector()) {
      collector.backward(weight.mul(weight).sum());
    }
    return weight;
  }

  @Test
  void anUpdateLeavesNoArraysInTheManagersOfItsTensors() {
    // DJL semantics with clipping: the adapter rescales and clips a copy of the gradient itself.
    try (NDManager weights = NDManager.newBaseManager("PyTorch");
        NDManager grads = NDManager.newBaseManager("PyTorch");
        LowBitOptimizer o = LowBit.adam().optSemantics(Semantics.DJL).setRescaleGrad(0.5f)
            .optClipGrad(1f).build()) {
      NDArray direct = weights.create(new float[] {1, 2, 3, 4, 5, 6}, new Shape(2, 3));
      direct.setRequiresGradient(true);
      try (GradientCollector collector = Engine.getEngine("PyTorch").newGradientCollector()) {
        collector.backward(direct.mul(direct).sum());
      }
      NDArray copied = float64WeightWithGradient(weights);
      NDArray grad =
          grads.create(new float[] {0.5f, -1f, 0.25f, 2f, -0.75f, 1.5f}, new Shape(2, 3));
      NDArray grad64 = grad.toType(DataType.FLOAT64, false);
      int weightArrays = weights.getManagedArrays().size();
      int gradArrays = grads.getManagedArrays().size();
      for (int step = 0; step < 2; step++) {
        o.update("direct", direct, grad);
        o.update("copied", copied, grad64);
      }
      assertEquals(Map.of("direct", true, "copied", false), o.inPlaceByKey());
      assertEquals(weightArrays, weights.getManagedArrays().size(), "arrays left with the weights");
      assertEquals(gradArrays, grads.getManagedArrays().size(), "arrays left with the gradients");
    }
  }

  @Test
  void zeroGradientsLeavesNoArraysInTheParametersManager() {
    try (LowBitOptimizer o = LowBit.adamW8bit().build();
        TinyMlp mlp = new TinyMlp(o, 1)) {
      mlp.backward(0);
      NDManager manager = mlp.parameter("01Linear_weight").getManager();
      int before = manager.getManagedArrays().size();
      LowBitOptimizer.zeroGradients(mlp.model());
      assertEquals(before, manager.getManagedArrays().size());
      // Checked after counting: reading the gradient here leaves arrays of its own.
      assertEquals(0f, mlp.parameter("01Linear_weight").getGradient().abs().max().getFloat());
    }
  }

  /**
   * Save and load bind every parameter; a float64 model's parameters take the copy path, whose
   * check writes each parameter's values back through a copy.
   */
  @Test
  void saveAndLoadLeaveNoArraysInTheParametersManager() throws IOException {
    Path checkpoint = dir.resolve("float64.safetensors");
    try (Model model = Model.newInstance("float64", "PyTorch");
        LowBitOptimizer o = LowBit.adam().build()) {
      Block block = Linear.builder().setUnits(2).build();
      model.setBlock(block);
      block.initialize(model.getNDManager(), DataType.FLOAT64, new Shape(1, 3));
      NDManager manager = block.getParameters().get("weight").getArray().getManager();
      int before = manager.getManagedArrays().size();
      o.save(model, checkpoint);
      assertEquals(before, manager.getManagedArrays().size(), "after save");
      o.load(model, checkpoint);
      assertEquals(before, manager.getManagedArrays().size(), "after load");
      assertEquals(Map.of("weight", false, "bias", false), o.inPlaceByKey());
    }
  }
}
