package dev.lowbit.bench.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The formulas agree with the state the core really allocates, within 1%, on real model shapes
 * (ResNet-50: 4-D convolution kernels, small batch-norm vectors; ViT-B/16: large matrices, a 4-D
 * patch embedding, 3-D tokens), and for Shampoo on ResNet-50.
 */
class MeasuredVersusComputedTest {

  @Test
  void measuredStateMatchesTheFormulasWithinOnePercent() throws Exception {
    List<ModelShapes> models = BuiltInModels.all().subList(0, 2);
    MemoryReport report =
        MemoryReport.of(models, OptimizerLayout.presets(), new CoreStateMeasurer(), 100_000_000L);
    assertEquals(2, report.models().size());
    for (ModelMemory model : report.models()) {
      assertEquals(OptimizerLayout.presets().size(), model.rows().size());
      assertWithinOnePercent(model);
    }
  }

  @Test
  void measuredShampooStateMatchesTheFormulasWithinOnePercent() throws Exception {
    // ResNet-50: blocks of 1200 for the 1000 x 2048 head, 4-D kernels viewed as (d0, -1),
    // 64-wide sides below the 4-bit threshold. Its preconditioners take about 620 MB of heap.
    ModelShapes resnet = BuiltInModels.all().getFirst();
    MemoryReport report =
        MemoryReport.of(
            List.of(resnet), ShampooLayout.presets(), new CoreStateMeasurer(), 100_000_000L);
    assertWithinOnePercent(report.models().getFirst());
  }

  private static void assertWithinOnePercent(ModelMemory model) {
    for (MemoryRow row : model.rows()) {
      String what = model.model() + " " + row.optimizer();
      assertNotNull(row.measuredBytes(), what + " was not measured");
      double relative =
          Math.abs(row.measuredBytes() - row.computedBytes()) / (double) row.computedBytes();
      assertTrue(
          relative <= 0.01,
          what + ": measured " + row.measuredBytes() + " vs computed " + row.computedBytes());
    }
  }

  @Test
  void modelsAboveTheLimitAreComputedOnly() throws Exception {
    List<ModelShapes> models = BuiltInModels.all().subList(0, 1);
    MemoryReport report =
        MemoryReport.of(models, OptimizerLayout.presets(), new CoreStateMeasurer(), 1000);
    for (MemoryRow row : report.models().getFirst().rows()) {
      assertNull(row.measuredBytes());
      assertNull(row.differencePercent());
      assertTrue(row.computedBytes() > 0);
    }
    assertTrue(report.toTable().contains("computed only"));
  }

  /**
   * Shampoo's preconditioners live on the heap, so a model whose preconditioners take more than
   * half the free heap is computed only, not allocated until OutOfMemoryError. Here they take
   * 1.5 times the maximum heap (1200 x 1200 weights, one block per side), so no free heap fits.
   */
  @Test
  void shampooWhosePreconditionersExceedTheHeapIsNotMeasured() {
    long max = Runtime.getRuntime().maxMemory();
    long perTensor = 2 * 2 * 4L * 1200 * 1200; // two sides, statistic and root, float32
    int count = (int) (1.5 * max / perTensor) + 1;
    List<TensorShape> tensors = new java.util.ArrayList<>();
    for (int i = 0; i < count; i++) {
      tensors.add(new TensorShape("w" + i, new long[] {1200, 1200}));
    }
    ModelShapes model = new ModelShapes("wide", "test", tensors);
    ShampooLayout shampoo32 = ShampooLayout.presets().getFirst();
    assertEquals("shampoo32", shampoo32.name());
    long preconditioners = shampoo32.bytes(model) - shampoo32.base().bytes(model);
    assertEquals(count * perTensor, preconditioners);
    assertTrue(preconditioners > 1.5 * max);
    assertTrue(new CoreStateMeasurer().measure("shampoo32", model).isEmpty());
  }
}
