package dev.lowbit.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.optim.shampoo.Shampoo;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link Optimizer#stepAndZero}: the same steps as {@link Optimizer#step(String, MemorySegment)},
 * the accumulator zeroed (in the kernels' pass for Adam and SGD, after the step otherwise), and
 * nothing written when the call fails.
 */
class StepAndZeroTest {

  /** Three chunks of the kernels and a partial one, so the pass clears in several pieces. */
  private static final long[] SHAPE = {100, 129};
  private static final int N = 100 * 129;

  static Stream<Arguments> configs() {
    return Stream.of(
            new NamedBuilder("adamW32", Optimizers::adamW32),
            new NamedBuilder("adamW8bit", Optimizers::adamW8bit),
            new NamedBuilder("adamW4bit", Optimizers::adamW4bit),
            new NamedBuilder("adamW4bitFactorized", Optimizers::adamW4bitFactorized),
            new NamedBuilder("sgdMomentum8bit", Optimizers::sgdMomentum8bit),
            new NamedBuilder("sgdMomentum4bit", Optimizers::sgdMomentum4bit))
        .map(Arguments::of);
  }

  private static float[] gradient(int step) {
    return TestStates.gaussian(new SplittableRandom(100 + step), N, 0.01);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("configs")
  void stepsAsStepDoesAndZeroesASeparateAccumulatorOrTheGradientItself(NamedBuilder config) {
    for (boolean intoGradient : new boolean[] {false, true}) {
      float[] expected = TestStates.gaussian(new SplittableRandom(5), N, 0.1);
      float[] actual = expected.clone();
      try (Optimizer reference = config.builder().get().threads(2).build();
          Optimizer fused = config.builder().get().threads(2).build()) {
        reference.register("w", SHAPE, expected);
        fused.register("w", SHAPE, actual);
        for (int step = 1; step <= 3; step++) {
          float[] grad = gradient(step);
          reference.step("w", grad.clone());
          float[] given = grad.clone();
          float[] accumulator = intoGradient ? given : filled(7f);
          fused.stepAndZero(
              "w", MemorySegment.ofArray(given), MemorySegment.ofArray(accumulator));
          assertArrayEquals(expected, actual, config + " step " + step);
          assertArrayEquals(TestStates.snapshot(reference), TestStates.snapshot(fused),
              config + " state after step " + step);
          assertArrayEquals(new float[N], accumulator, config + " accumulator, step " + step);
          if (!intoGradient) {
            assertArrayEquals(grad, given, config + ": the gradient is read only");
          }
        }
      }
    }
  }

  @Test
  void shampooStepsAsStepDoesAndZeroesAfterTheStep() {
    Supplier<Optimizer> shampoo =
        () -> Shampoo.shampoo4bit(Optimizers.adamW8bit().minQuantizedSize(0).build())
            .statisticsInterval(1)
            .inverseRootInterval(2)
            .build();
    float[] expected = TestStates.gaussian(new SplittableRandom(5), N, 0.1);
    float[] actual = expected.clone();
    try (Optimizer reference = shampoo.get(); Optimizer fused = shampoo.get()) {
      reference.register("w", SHAPE, expected);
      fused.register("w", SHAPE, actual);
      for (int step = 1; step <= 4; step++) {
        float[] grad = gradient(step);
        reference.step("w", grad.clone());
        fused.stepAndZero("w", MemorySegment.ofArray(grad), MemorySegment.ofArray(grad));
        assertArrayEquals(expected, actual, "step " + step);
        assertArrayEquals(new float[N], grad, "gradient, step " + step);
      }
    }
  }

  @Test
  void aSkippedStepStillZeroesTheAccumulator() {
    float[] w = TestStates.gaussian(new SplittableRandom(5), N, 0.1);
    float[] before = w.clone();
    try (Optimizer opt = Optimizers.adamW8bit().nonFinitePolicy(NonFinitePolicy.SKIP).build();
        Optimizer plain = Optimizers.adamW8bit().nonFinitePolicy(NonFinitePolicy.SKIP).build()) {
      opt.register("w", SHAPE, w);
      plain.register("w", SHAPE, before.clone());
      float[] grad = gradient(1);
      grad[4000] = Float.NaN;
      plain.step("w", grad.clone());
      opt.stepAndZero("w", MemorySegment.ofArray(grad), MemorySegment.ofArray(grad));
      assertEquals(1, opt.skippedSteps());
      assertEquals(0, opt.stepCount("w"));
      assertArrayEquals(before, w);
      assertArrayEquals(TestStates.snapshot(plain), TestStates.snapshot(opt));
      assertArrayEquals(new float[N], grad);
    }
  }

  @Test
  void aFailedCallWritesNothingNotEvenTheAccumulator() {
    float[] w = TestStates.gaussian(new SplittableRandom(5), N, 0.1);
    float[] before = w.clone();
    try (Optimizer opt = Optimizers.adamW4bit().build()) {
      opt.register("w", SHAPE, w);
      byte[] state = TestStates.snapshot(opt);

      float[] bad = gradient(1);
      bad[77] = Float.POSITIVE_INFINITY;
      float[] badCopy = bad.clone();
      NonFiniteGradientException e = assertThrows(NonFiniteGradientException.class,
          () -> opt.stepAndZero("w", MemorySegment.ofArray(bad), MemorySegment.ofArray(bad)));
      assertEquals(77, e.index());
      assertArrayEquals(badCopy, bad, "the gradient is kept");

      float[] grad = gradient(1);
      MemorySegment readOnly = MemorySegment.ofArray(filled(7f)).asReadOnly();
      IllegalArgumentException ro = assertThrows(IllegalArgumentException.class,
          () -> opt.stepAndZero("w", MemorySegment.ofArray(grad), readOnly));
      assertTrue(ro.getMessage().contains("accumulator of 'w'"), ro.getMessage());
      assertTrue(ro.getMessage().contains("read-only"), ro.getMessage());

      float[] shorter = new float[N - 1];
      Arrays.fill(shorter, 7f);
      IllegalArgumentException size = assertThrows(IllegalArgumentException.class,
          () -> opt.stepAndZero("w", MemorySegment.ofArray(grad), MemorySegment.ofArray(shorter)));
      assertTrue(size.getMessage().contains("accumulator of 'w'"), size.getMessage());
      assertEquals(7f, shorter[0]);

      IllegalArgumentException overlap = assertThrows(IllegalArgumentException.class,
          () -> opt.stepAndZero("w", MemorySegment.ofArray(grad), MemorySegment.ofArray(w)));
      assertTrue(overlap.getMessage().contains("overlaps the parameter"), overlap.getMessage());

      assertArrayEquals(before, w);
      assertArrayEquals(state, TestStates.snapshot(opt));
      assertEquals(0, opt.stepCount("w"));
    }
  }

  private static float[] filled(float value) {
    float[] a = new float[N];
    Arrays.fill(a, value);
    return a;
  }
}
