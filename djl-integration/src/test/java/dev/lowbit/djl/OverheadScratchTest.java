package dev.lowbit.djl;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

class OverheadScratchTest {
  interface Op { void run(); }
  static void time(String label, Op op) {
    for (int i = 0; i < 3; i++) op.run();
    long best = Long.MAX_VALUE; long sum = 0;
    for (int i = 0; i < 10; i++) { long t0 = System.nanoTime(); op.run(); long d = System.nanoTime() - t0; best = Math.min(best, d); sum += d; }
    System.out.printf("%-28s best %.2f ms, mean %.2f ms%n", label, best / 1e6, sum / 10e6);
  }
  @Test
  void run() {
    int n = 4096;
    try (NDManager m = NDManager.newBaseManager("PyTorch")) {
      NDArray weight = m.randomNormal(new Shape(n, n));
      NDArray grad = m.randomNormal(new Shape(n, n)).mul(1e-3f);
      weight.setRequiresGradient(true);
      try (GradientCollector c = Engine.getEngine("PyTorch").newGradientCollector()) { c.backward(weight.mul(grad).sum()); }
      try (LowBitOptimizer o = LowBit.adamW32().build()) {
        o.update("w", weight, grad);
        for (int rep = 0; rep < 2; rep++) {
          time("adapter fp32 update", () -> o.update("w", weight, grad));
          time("zeroGradient (scratch)", () -> { try (NDManager s = weight.getManager().newSubManager()) { weight.tempAttach(s); TensorMemory.zeroGradient(weight); } });
          MemorySegment g = TensorMemory.ownMemory(weight.getGradient());
          time("fill 64MB", () -> g.fill((byte) 0));
          time("torch set 0", () -> { try (NDManager s = weight.getManager().newSubManager()) { weight.tempAttach(s); weight.getGradient().set(new NDIndex("..."), 0f); } });
          time("probes", () -> { try (NDManager s = weight.getManager().newSubManager()) { weight.tempAttach(s); grad.tempAttach(s); TensorMemory.ownMemory(grad); TensorMemory.ownMemory(weight); TensorMemory.currentAddress(weight); } });
        }
      }
      try (LowBitOptimizer o = LowBit.adamW8bit().build()) {
        o.update("w", weight, grad);
        time("adapter 8bit update", () -> o.update("w", weight, grad));
      }
      float[] w = new float[n * n]; float[] gg = grad.toFloatArray();
      try (dev.lowbit.optim.Optimizer core = dev.lowbit.optim.Optimizers.adamW32().build()) {
        java.lang.foreign.Arena a = java.lang.foreign.Arena.ofAuto();
        MemorySegment ws = a.allocate(4L * n * n, 64); MemorySegment gs = a.allocate(4L * n * n, 64);
        MemorySegment.copy(gg, 0, gs, java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, gg.length);
        core.register("w", new long[] {n, n}, ws);
        time("core fp32 step", () -> core.step("w", gs));
      }
      try (dev.lowbit.optim.Optimizer core = dev.lowbit.optim.Optimizers.adamW8bit().build()) {
        java.lang.foreign.Arena a = java.lang.foreign.Arena.ofAuto();
        MemorySegment ws = a.allocate(4L * n * n, 64); MemorySegment gs = a.allocate(4L * n * n, 64);
        MemorySegment.copy(gg, 0, gs, java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, gg.length);
        core.register("w", new long[] {n, n}, ws);
        time("core 8bit step", () -> core.step("w", gs));
      }
    }
  }
}
