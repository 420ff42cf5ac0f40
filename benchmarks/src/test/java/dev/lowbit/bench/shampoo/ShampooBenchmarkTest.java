package dev.lowbit.bench.shampoo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.lowbit.optim.Optimizer;
import dev.lowbit.optim.shampoo.Shampoo;
import dev.lowbit.optim.shampoo.ShampooPrecision;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * ShampooBenchmark's workloads, built and stepped as JMH would (its {@code @Setup} and
 * {@code @Benchmark} methods called directly) on an 80 x 80 weight instead of 1024 x 1024: each
 * phase updates what its javadoc says, read from a checkpoint of the set-up optimizer and from
 * the weights against plain AdamW's.
 */
class ShampooBenchmarkTest {

  /** Small, and not a multiple of 64, so the 4-bit rows are padded. */
  private static final int SIZE = 80;

  private static final double EPSILON = 1e-6; // Shampoo's default, the initial statistic's scale

  @TempDir Path dir;

  private static ShampooBenchmark.ShampooWorkload shampoo(
      String precision, ShampooBenchmark.Phase phase) {
    ShampooBenchmark.ShampooWorkload w = new ShampooBenchmark.ShampooWorkload();
    w.size = SIZE;
    w.precision = precision;
    w.phase = phase;
    w.setUp();
    return w;
  }

  /** The weights of AdamW after {@code steps} steps of the benchmark's gradient cycle. */
  private static float[] adamWWeights(int steps) {
    ShampooBenchmark.AdamWWorkload w = new ShampooBenchmark.AdamWWorkload();
    w.size = SIZE;
    w.setUp();
    try {
      for (int s = 0; s < steps; s++) {
        w.step();
      }
      return weights(w.opt);
    } finally {
      w.tearDown();
    }
  }

  private static float[] weights(Optimizer opt) {
    return opt.parameter("w").values().toArray(ValueLayout.JAVA_FLOAT);
  }

  @Test
  void theAdamWBaselineRegistersTheWeightAndStepsThroughTheGradients() {
    ShampooBenchmark.AdamWWorkload w = new ShampooBenchmark.AdamWWorkload();
    w.size = SIZE;
    w.setUp();
    try {
      assertArrayEquals(new long[] {SIZE, SIZE}, w.opt.parameter("w").shape());
      assertEquals(0, w.opt.stepCount("w"));
      float[] before = weights(w.opt);
      ShampooBenchmark benchmark = new ShampooBenchmark();
      for (int s = 1; s <= ShampooBenchmark.GRADIENTS + 1; s++) {
        assertSame(w.opt, benchmark.adamW(w));
        assertEquals(s, w.opt.stepCount("w"));
        assertEquals(s % ShampooBenchmark.GRADIENTS, w.next, "the gradients are cycled");
      }
      assertFalse(Arrays.equals(before, weights(w.opt)));
      // Distinct gradients: the 4 are not one gradient repeated.
      assertFalse(Arrays.equals(w.grads[0], w.grads[1]));
      assertEquals(SIZE * SIZE, w.grads[3].length);
    } finally {
      w.tearDown();
    }
    // The trial's tear-down frees the state.
    assertThrows(IllegalStateException.class, () -> w.opt.stepCount("w"));
  }

  /**
   * STEP: nothing is updated, before or during the measured step: the statistic stays its initial
   * {@code epsilon I} and the root I. STATISTICS: the set-up's two steps filled the statistics,
   * but the roots stay I. Either way each step is AdamW's step to the bit.
   */
  @ParameterizedTest
  @CsvSource({"STEP, 0, false", "STATISTICS, 2, true"})
  void phasesWithoutRootUpdatesStepAsAdamW(
      ShampooBenchmark.Phase phase, int stepsBefore, boolean statisticUpdated)
      throws IOException {
    for (String precision : new String[] {"FP32", "FOUR_BIT"}) {
      ShampooBenchmark.ShampooWorkload w = shampoo(precision, phase);
      try {
        assertEquals(ShampooPrecision.valueOf(precision), ((Shampoo) w.opt).precision());
        assertEquals(stepsBefore, w.opt.stepCount("w"), "steps before measuring");
        assertSame(w.opt, new ShampooBenchmark().shampoo(w));
        assertEquals(stepsBefore + 1, w.opt.stepCount("w"));
        State s = State.of(w.opt, dir.resolve(precision + "-" + phase + ".safetensors"));
        assertEquals(statisticUpdated, s.statisticUpdated(), precision);
        assertFalse(s.rootUpdated(), precision);
        assertArrayEquals(adamWWeights(stepsBefore + 1), weights(w.opt), precision);
        assertEquals(0, ((Shampoo) w.opt).preconditionerFailures());
      } finally {
        w.tearDown();
      }
    }
  }

  /** ROOTS: statistics and roots from the set-up's steps on, so the steps are not AdamW's. */
  @Test
  void theRootsPhaseUpdatesStatisticsAndRoots() throws IOException {
    for (String precision : new String[] {"FP32", "FOUR_BIT"}) {
      ShampooBenchmark.ShampooWorkload w = shampoo(precision, ShampooBenchmark.Phase.ROOTS);
      try {
        assertEquals(ShampooPrecision.valueOf(precision), ((Shampoo) w.opt).precision());
        assertEquals(2, w.opt.stepCount("w"), "two steps before measuring");
        State s = State.of(w.opt, dir.resolve(precision + "-roots.safetensors"));
        assertTrue(s.statisticUpdated(), precision);
        assertTrue(s.rootUpdated(), precision);
        assertFalse(Arrays.equals(adamWWeights(2), weights(w.opt)), precision);
        assertSame(w.opt, new ShampooBenchmark().shampoo(w));
        assertEquals(3, w.opt.stepCount("w"));
        assertEquals(0, ((Shampoo) w.opt).preconditionerFailures());
      } finally {
        w.tearDown();
      }
    }
  }

  /**
   * The left side's statistic and root of the weight's one block, as a checkpoint holds them:
   * whether each still has its initial value ({@code epsilon I} and I).
   */
  private record State(boolean statisticUpdated, boolean rootUpdated) {

    static State of(Optimizer opt, Path file) throws IOException {
      opt.save(file);
      byte[] bytes = Files.readAllBytes(file);
      ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
      int headerLength = (int) buffer.getLong(0);
      JsonObject header =
          JsonParser.parseString(new String(bytes, 8, headerLength, StandardCharsets.UTF_8))
              .getAsJsonObject();
      int data = 8 + headerLength;
      if (header.has("w/b0.left.statistic")) { // float32: the matrices themselves
        float[] statistic = floats(buffer, data, header, "w/b0.left.statistic");
        float[] root = floats(buffer, data, header, "w/b0.left.root");
        return new State(
            !Arrays.equals(identity(EPSILON), statistic), !Arrays.equals(identity(1), root));
      }
      // 4-bit: the statistic's eigenvalues start at epsilon, the root's diagonal at 1 (and its
      // off-diagonal codes at 0, which a changed diagonal implies has moved too).
      float[] eigenvalues = floats(buffer, data, header, "w/b0.left.eigenvalues");
      float[] diagonal = floats(buffer, data, header, "w/b0.left.root.diagonal");
      return new State(!allEqual(eigenvalues, (float) EPSILON), !allEqual(diagonal, 1f));
    }

    private static float[] identity(double scale) {
      float[] m = new float[SIZE * SIZE];
      for (int i = 0; i < SIZE; i++) {
        m[i * SIZE + i] = (float) scale;
      }
      return m;
    }

    private static boolean allEqual(float[] values, float value) {
      assertEquals(SIZE, values.length);
      for (float v : values) {
        if (v != value) {
          return false;
        }
      }
      return true;
    }

    private static float[] floats(ByteBuffer buffer, int data, JsonObject header, String key) {
      JsonObject tensor = header.getAsJsonObject(key);
      assertEquals("F32", tensor.get("dtype").getAsString(), key);
      JsonArray offsets = tensor.getAsJsonArray("data_offsets");
      int begin = data + offsets.get(0).getAsInt();
      int end = data + offsets.get(1).getAsInt();
      float[] values = new float[(end - begin) / 4];
      buffer.slice(begin, end - begin).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
      return values;
    }
  }
}
