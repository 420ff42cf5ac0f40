package dev.lowbit.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.engine.Engine;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/** The assumptions the adapter makes about the PyTorch engine's tensor memory. */
class TensorMemoryTest {

  @Test
  void contiguousCpuFloat32TensorIsUsedInPlace() {
    try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
      NDArray weight = manager.arange(12f).reshape(3, 4);
      MemorySegment memory = TensorMemory.ownMemory(weight);
      assertNotNull(memory);
      assertEquals(48, memory.byteSize());
      memory.setAtIndex(ValueLayout.JAVA_FLOAT, 5, 42f);
      assertEquals(42f, weight.getFloat(1, 1));
      assertEquals(memory.address(), TensorMemory.currentAddress(weight));
    }
  }

  @Test
  void transposedViewTakesTheCopyPathAndWritesThrough() {
    try (NDManager manager = NDManager.newBaseManager("PyTorch");
        Arena arena = Arena.ofConfined()) {
      NDArray base = manager.arange(12f).reshape(3, 4);
      NDArray view = base.transpose();
      assertNull(TensorMemory.ownMemory(view));
      MemorySegment staged = arena.allocate(12 * 4L, 4);
      TensorMemory.copyOut(view, staged);
      assertArrayEquals(
          new float[] {0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11},
          staged.toArray(ValueLayout.JAVA_FLOAT));
      for (int i = 0; i < 12; i++) {
        staged.setAtIndex(ValueLayout.JAVA_FLOAT, i, 100 + i);
      }
      TensorMemory.copyIn(staged, view);
      assertArrayEquals(
          new float[] {100, 103, 106, 109, 101, 104, 107, 110, 102, 105, 108, 111},
          base.toFloatArray());
    }
  }

  @Test
  void otherDtypesAreConvertedBothWays() {
    try (NDManager manager = NDManager.newBaseManager("PyTorch");
        Arena arena = Arena.ofConfined()) {
      NDArray weight = manager.arange(6f).reshape(2, 3).toType(DataType.FLOAT64, false);
      assertNull(TensorMemory.ownMemory(weight));
      MemorySegment staged = arena.allocate(6 * 4L, 4);
      TensorMemory.copyOut(weight, staged);
      assertArrayEquals(new float[] {0, 1, 2, 3, 4, 5}, staged.toArray(ValueLayout.JAVA_FLOAT));
      staged.setAtIndex(ValueLayout.JAVA_FLOAT, 4, 0.5f);
      TensorMemory.copyIn(staged, weight);
      assertEquals(DataType.FLOAT64, weight.getDataType());
      assertArrayEquals(new double[] {0, 1, 2, 3, 0.5, 5}, weight.toDoubleArray());
    }
  }

  /**
   * The kernels clear the gradient in the pass that steps, through this memory; where there is
   * none to write to in place, the adapter clears it after the step instead.
   */
  @Test
  void gradientMemoryIsTheGradientsOwnStorageWhenItIsCpuFloat32() {
    try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
      NDArray weight = manager.create(new float[] {1, 2, 3}, new Shape(3));
      assertNull(TensorMemory.gradientMemory(weight), "no gradient attached");
      weight.setRequiresGradient(true);
      NDArray float64 = manager.create(new double[] {1, 2, 3});
      float64.setRequiresGradient(true);
      try (GradientCollector collector = Engine.getEngine("PyTorch").newGradientCollector()) {
        collector.backward(weight.mul(weight).sum().add(float64.mul(float64).sum()));
      }
      MemorySegment memory = TensorMemory.gradientMemory(weight);
      assertNotNull(memory);
      memory.setAtIndex(ValueLayout.JAVA_FLOAT, 1, 0f);
      assertArrayEquals(new float[] {2, 0, 6}, weight.getGradient().toFloatArray());
      assertNull(TensorMemory.gradientMemory(float64), "a float64 gradient");
    }
  }

  @Test
  void zeroGradientClearsTheAccumulatedGradient() {
    try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
      NDArray weight = manager.create(new float[] {1, 2, 3}, new Shape(3));
      weight.setRequiresGradient(true);
      try (GradientCollector collector = Engine.getEngine("PyTorch").newGradientCollector()) {
        collector.backward(weight.mul(weight).sum());
      }
      assertArrayEquals(new float[] {2, 4, 6}, weight.getGradient().toFloatArray());
      TensorMemory.zeroGradient(weight);
      assertArrayEquals(new float[] {0, 0, 0}, weight.getGradient().toFloatArray());
    }
  }
}
