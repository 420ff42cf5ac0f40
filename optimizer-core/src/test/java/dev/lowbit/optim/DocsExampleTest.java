package dev.lowbit.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The example of docs/optimizers.md, verbatim between the markers, so that it compiles and runs.
 */
class DocsExampleTest {

  @TempDir Path dir;

  /** The example's "backward pass": the gradient of 0.5 * ||w - 1||^2. */
  private static void computeGradient(float[] w, float[] grad) {
    for (int i = 0; i < w.length; i++) {
      grad[i] = w[i] - 1f;
    }
  }

  private static double loss(float[] w) {
    double s = 0;
    for (float x : w) {
      s += 0.5 * (x - 1) * (x - 1);
    }
    return s;
  }

  @Test
  void exampleRuns() throws IOException {
    Path checkpoint = dir.resolve("optimizer.safetensors");
    // --- docs/optimizers.md example begins
    float[] weight = new float[256 * 64];   // parameters, updated in place
    float[] bias = new float[64];
    float[] grad = new float[weight.length];
    float[] biasGrad = new float[bias.length];

    try (Optimizer opt = Optimizers.adamW8bit()   // 8-bit m and v, B = 256
        .learningRate(1e-2f)
        .weightDecay(0.01f)
        .override(".*embedding.*", Precision.FP32) // pin by name
        .build()) {
      opt.register("fc.weight", new long[] {256, 64}, weight);
      opt.register("fc.bias", new long[] {64}, bias);   // < 4096 elements: float32 state
      for (int step = 0; step < 200; step++) {
        computeGradient(weight, grad);             // your backward pass
        computeGradient(bias, biasGrad);
        opt.step("fc.weight", grad);
        opt.step("fc.bias", biasGrad);
      }
      System.out.println(opt.stateBytes() + " bytes of optimizer state");
      opt.save(checkpoint);                        // safetensors, crash-safe
    }
    // --- docs/optimizers.md example ends
    assertTrue(loss(weight) < 0.05 * loss(new float[weight.length]), "loss " + loss(weight));
    try (Optimizer again = Optimizers.adamW8bit().learningRate(1e-2f).weightDecay(0.01f).build()) {
      again.register("fc.weight", new long[] {256, 64}, weight);
      again.register("fc.bias", new long[] {64}, bias);
      again.load(checkpoint);
      assertEquals(200, again.stepCount("fc.weight"));
      assertEquals(256 * 64 * 2 + 4 * 2 * 64 + 64 * 8, again.stateBytes());
    }
  }
}
