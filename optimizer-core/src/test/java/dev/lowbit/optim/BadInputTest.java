package dev.lowbit.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The bad-input contract: a refused step, registration or option writes nothing. */
class BadInputTest {

  private static final Map<String, Supplier<OptimizerBuilder<?>>> PRESETS = new LinkedHashMap<>();

  static {
    PRESETS.put("adamW32", Optimizers::adamW32);
    PRESETS.put("adamW8bit", Optimizers::adamW8bit);
    PRESETS.put("adamW4bit", Optimizers::adamW4bit);
    PRESETS.put("adamW4bitFactorized", Optimizers::adamW4bitFactorized);
    PRESETS.put("sgdMomentum8bit", Optimizers::sgdMomentum8bit);
    PRESETS.put("sgdMomentum4bit", Optimizers::sgdMomentum4bit);
  }

  private static Optimizer warmed(Supplier<OptimizerBuilder<?>> preset, NonFinitePolicy policy,
      float[] w, float[] b) {
    Optimizer opt = preset.get().minQuantizedSize(0).nonFinitePolicy(policy).build();
    opt.register("w", new long[] {48, 100}, w);
    opt.register("b", new long[] {100}, b);
    SplittableRandom rnd = new SplittableRandom(3);
    for (int s = 0; s < 2; s++) {
      opt.step("w", TestStates.gaussian(rnd, w.length, 0.01));
      opt.step("b", TestStates.gaussian(rnd, b.length, 0.01));
    }
    return opt;
  }

  @ParameterizedTest
  @ValueSource(strings = {"adamW32", "adamW8bit", "adamW4bit", "adamW4bitFactorized",
      "sgdMomentum8bit", "sgdMomentum4bit"})
  void throwPolicyNamesTheParameterAndIndexAndWritesNothing(String preset) {
    SplittableRandom rnd = new SplittableRandom(4);
    float[] w = TestStates.gaussian(rnd, 4800, 0.1);
    float[] b = TestStates.gaussian(rnd, 100, 0.1);
    try (Optimizer opt = warmed(PRESETS.get(preset), NonFinitePolicy.THROW, w, b)) {
      // The finite ones are too large to square in float32 (above 2^63, about 9.2e18).
      for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY,
          Float.NEGATIVE_INFINITY, 2e19f, -1e30f}) {
        float[] g = TestStates.gaussian(rnd, 4800, 0.01);
        g[1234] = bad;
        g[4000] = Float.NaN;
        float[] w0 = w.clone();
        byte[] state0 = TestStates.snapshot(opt);
        NonFiniteGradientException e =
            assertThrows(NonFiniteGradientException.class, () -> opt.step("w", g));
        assertEquals("w", e.parameterName());
        assertEquals(1234, e.index());
        assertTrue(e.getMessage().contains("'w'") && e.getMessage().contains("1234"),
            e.getMessage());
        assertTrue(e.getMessage().contains(Float.isFinite(bad) ? "too large" : "not finite"),
            e.getMessage());
        assertArrayEquals(w0, w);
        assertArrayEquals(state0, TestStates.snapshot(opt));
        assertEquals(2, opt.stepCount("w"));

        // In a multi-tensor step, the good tensor is not stepped either.
        float[] b0 = b.clone();
        Map<String, MemorySegment> grads = new LinkedHashMap<>();
        grads.put("b", MemorySegment.ofArray(TestStates.gaussian(rnd, 100, 0.01)));
        grads.put("w", MemorySegment.ofArray(g));
        assertThrows(NonFiniteGradientException.class, () -> opt.step(grads));
        assertArrayEquals(b0, b);
        assertArrayEquals(w0, w);
        assertArrayEquals(state0, TestStates.snapshot(opt));
        assertEquals(0, opt.skippedSteps());
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"adamW32", "adamW8bit", "adamW4bit", "sgdMomentum4bit"})
  void skipPolicySkipsAndCounts(String preset) {
    SplittableRandom rnd = new SplittableRandom(5);
    float[] w = TestStates.gaussian(rnd, 4800, 0.1);
    float[] b = TestStates.gaussian(rnd, 100, 0.1);
    try (Optimizer opt = warmed(PRESETS.get(preset), NonFinitePolicy.SKIP, w, b)) {
      float[] g = TestStates.gaussian(rnd, 4800, 0.01);
      g[17] = Float.NaN;
      float[] w0 = w.clone();
      float[] b0 = b.clone();
      byte[] wState = stateOf(opt, "w");
      Map<String, MemorySegment> grads = new LinkedHashMap<>();
      grads.put("w", MemorySegment.ofArray(g));
      grads.put("b", MemorySegment.ofArray(TestStates.gaussian(rnd, 100, 0.01)));
      opt.step(grads);
      assertEquals(1, opt.skippedSteps());
      assertArrayEquals(w0, w, "skipped tensor changed");
      assertArrayEquals(wState, stateOf(opt, "w"), "skipped tensor's state changed");
      assertEquals(2, opt.stepCount("w"));
      assertEquals(3, opt.stepCount("b"));
      assertFalse(java.util.Arrays.equals(b0, b), "the finite tensor should have stepped");
      opt.step("w", g);
      assertEquals(2, opt.skippedSteps());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"adamW32", "adamW8bit", "adamW4bit", "adamW4bitFactorized",
      "sgdMomentum8bit", "sgdMomentum4bit"})
  void aGradientTooLargeToSquareIsSkippedSoStateAndCheckpointsStayFinite(String preset)
      throws java.io.IOException {
    SplittableRandom rnd = new SplittableRandom(6);
    float[] w = TestStates.gaussian(rnd, 4800, 0.1);
    float[] b = TestStates.gaussian(rnd, 100, 0.1);
    java.nio.file.Path file = java.nio.file.Files.createTempFile("huge", ".safetensors");
    try (Optimizer opt = warmed(PRESETS.get(preset), NonFinitePolicy.SKIP, w, b)) {
      float[] g = TestStates.gaussian(rnd, 4800, 0.01);
      g[5] = 2e19f; // its square overflows float32; 9e18 (below 2^63) would be stepped
      opt.step("w", g);
      assertEquals(1, opt.skippedSteps());
      for (int s = 0; s < 3; s++) {
        opt.step("w", TestStates.gaussian(rnd, 4800, 0.01));
      }
      for (float x : w) {
        assertTrue(Float.isFinite(x), "weights stay finite");
      }
      opt.save(file);
      opt.load(file); // refused before: the saved second moment held an infinity
      g[5] = 9e18f;
      opt.step("w", g);
      assertEquals(1, opt.skippedSteps(), "just below the limit is stepped");
      for (float x : w) {
        assertTrue(Float.isFinite(x), "weights stay finite after the largest accepted value");
      }
      opt.save(file);
      opt.load(file);
    } finally {
      java.nio.file.Files.deleteIfExists(file);
    }
  }

  @Test
  void theSizeLimitFollowsTheRescaleAndTheValueClip() {
    float[] w = new float[64];
    float[] g = new float[64];
    try (Optimizer opt = Optimizers.adamW32().rescaleGradient(10f).build()) {
      opt.register("w", new long[] {64}, w);
      for (float bad : new float[] {1e38f, 1e18f}) {
        g[0] = bad; // times 10, above 2^63
        NonFiniteGradientException e =
            assertThrows(NonFiniteGradientException.class, () -> opt.step("w", g));
        assertTrue(e.getMessage().contains("too large"), e.getMessage());
        // The limit is 2^63 / rescale, and the message says so.
        assertEquals((float) (0x1p63 / 10), e.limit());
        assertTrue(e.getMessage().contains("above the " + e.limit()), e.getMessage());
      }
      assertArrayEquals(new float[64], w);
      g[0] = 9e17f;
      opt.step("w", g);
      assertTrue(w[0] < 0f && Float.isFinite(w[0]), "stepped: " + w[0]);
    }
    // An element-wise clip bounds the rescaled value itself: any finite gradient is fine.
    java.util.Arrays.fill(w, 0f);
    try (Optimizer opt = Optimizers.adamW32().rescaleGradient(10f).clipValue(1f).build()) {
      opt.register("w", new long[] {64}, w);
      g[0] = 1e38f;
      opt.step("w", g);
      assertTrue(w[0] < 0f && Float.isFinite(w[0]), "stepped: " + w[0]);
      g[0] = Float.POSITIVE_INFINITY;
      NonFiniteGradientException e =
          assertThrows(NonFiniteGradientException.class, () -> opt.step("w", g));
      assertTrue(e.getMessage().contains("not finite") && !e.getMessage().contains("above the"),
          e.getMessage());
    }
  }

  @Test
  void aNameACheckpointCannotHoldIsRefused() {
    try (Optimizer opt = Optimizers.adamW32().build()) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> opt.register("w\uD800", new long[] {4}, new float[4]));
      assertTrue(e.getMessage().contains("surrogate"), e.getMessage());
      opt.register("w", new long[] {4}, new float[4]);
      assertThrows(IllegalArgumentException.class, () -> opt.rename("w", "\uDC00"));
      assertEquals(java.util.Set.of("w"), opt.parameterNames());
    }
  }

  @Test
  void memoryFreedOrConfinedToAnotherThreadIsRefusedByNameBeforeAnythingIsWritten()
      throws InterruptedException {
    float[] a = new float[64];
    float[] g = filled(64, 1f);
    try (Optimizer opt = Optimizers.adamW32().threads(1).build()) {
      opt.register("a", new long[] {64}, a);
      Arena arena = Arena.ofShared();
      MemorySegment freed = arena.allocate(64 * 4, 4);
      opt.register("b", new long[] {64}, freed);
      arena.close();
      Map<String, MemorySegment> grads = new LinkedHashMap<>();
      grads.put("a", MemorySegment.ofArray(g));
      grads.put("b", MemorySegment.ofArray(g));
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> opt.step(grads));
      assertTrue(e.getMessage().contains("'b'") && e.getMessage().contains("freed"),
          e.getMessage());
      assertArrayEquals(new float[64], a, "a was not stepped either");
      assertEquals(0, opt.stepCount("a"));
      assertThrows(IllegalArgumentException.class,
          () -> opt.register("c", new long[] {64}, freed));
      assertThrows(IllegalArgumentException.class, () -> opt.rebind("a", freed));
    }
    // Confined memory registered by its owner thread, stepped from another one.
    try (Arena confined = Arena.ofConfined();
        Optimizer opt = Optimizers.adamW32().threads(1).build()) {
      MemorySegment w = confined.allocate(64 * 4, 4);
      opt.register("w", new long[] {64}, w);
      Throwable[] thrown = new Throwable[1];
      Thread other = new Thread(() -> {
        try {
          opt.step("w", g);
        } catch (Throwable t) {
          thrown[0] = t;
        }
      });
      other.start();
      other.join();
      assertTrue(thrown[0] instanceof IllegalArgumentException
          && thrown[0].getMessage().contains("'w'")
          && thrown[0].getMessage().contains("another thread"), String.valueOf(thrown[0]));
      assertEquals(0, opt.stepCount("w"));
    }
  }

  private static byte[] stateOf(Optimizer opt, String name) {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    MomentSet s = (MomentSet) opt.state(name);
    for (Moment.Part p : s.moment(0).parts) {
      out.writeBytes(p.segment().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
    }
    return out.toByteArray();
  }

  @Test
  void mismatchedLengthsAreRefusedAndWriteNothing() {
    SplittableRandom rnd = new SplittableRandom(6);
    float[] w = TestStates.gaussian(rnd, 4800, 0.1);
    float[] b = TestStates.gaussian(rnd, 100, 0.1);
    try (Optimizer opt = warmed(Optimizers::adamW8bit, NonFinitePolicy.THROW, w, b)) {
      float[] w0 = w.clone();
      byte[] state0 = TestStates.snapshot(opt);
      for (int len : new int[] {0, 4799, 4801, 100}) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> opt.step("w", new float[len]));
        assertTrue(e.getMessage().contains("gradient of 'w'"), e.getMessage());
        assertTrue(e.getMessage().contains("4800 floats"), e.getMessage());
        // The expected size is given in bytes, like the size found: 4 per float.
        assertTrue(e.getMessage().contains("has " + 4 * len + " bytes, expected 19200 "),
            e.getMessage());
      }
      Map<String, MemorySegment> grads = new LinkedHashMap<>();
      grads.put("b", MemorySegment.ofArray(new float[100]));
      grads.put("w", MemorySegment.ofArray(new float[10]));
      assertThrows(IllegalArgumentException.class, () -> opt.step(grads));
      IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
          () -> opt.step("nope", new float[3]));
      assertTrue(unknown.getMessage().contains("'nope'"));
      // A byte segment that is not float-aligned.
      MemorySegment bytes = MemorySegment.ofArray(new byte[4800 * 4]);
      IllegalArgumentException unaligned =
          assertThrows(IllegalArgumentException.class, () -> opt.step("w", bytes));
      assertTrue(unaligned.getMessage().contains("aligned"), unaligned.getMessage());
      assertArrayEquals(w0, w);
      assertArrayEquals(state0, TestStates.snapshot(opt));
    }
  }

  @Test
  void badRegistrationsAreRefused() {
    try (Optimizer opt = Optimizers.adamW8bit().build()) {
      opt.register("w", new long[] {2, 3}, new float[6]);
      long bytes = opt.stateBytes();
      assertThrows(IllegalArgumentException.class,
          () -> opt.register("w", new long[] {6}, new float[6]), "duplicate name");
      IllegalArgumentException len = assertThrows(IllegalArgumentException.class,
          () -> opt.register("x", new long[] {2, 3}, new float[5]));
      assertTrue(len.getMessage().contains("'x'"), len.getMessage());
      assertThrows(IllegalArgumentException.class,
          () -> opt.register("y", new long[] {-1, 3}, new float[0]));
      assertThrows(IllegalArgumentException.class,
          () -> opt.register("z", new long[] {1L << 40, 1L << 40}, new float[0]));
      assertThrows(IllegalArgumentException.class,
          () -> opt.register("r", new long[] {2}, MemorySegment.ofArray(new float[2])
              .asReadOnly()));
      assertEquals(java.util.Set.of("w"), opt.parameterNames());
      assertEquals(bytes, opt.stateBytes());
    }
  }

  @Test
  void aBadLearningRateFromTheScheduleWritesNothing() {
    float[] w = filled(5000, 1f);
    try (Optimizer opt = Optimizers.adamW8bit().learningRate(t -> t < 2 ? 1e-3f : Float.NaN)
        .build()) {
      opt.register("w", new long[] {5000}, w);
      opt.step("w", new float[5000]);
      float[] w0 = w.clone();
      byte[] state0 = TestStates.snapshot(opt);
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> opt.step("w", new float[5000]));
      assertTrue(e.getMessage().contains("step 2"), e.getMessage());
      assertArrayEquals(w0, w);
      assertArrayEquals(state0, TestStates.snapshot(opt));
      assertEquals(1, opt.stepCount("w"));
    }
  }

  /**
   * Tensors of one step can be at different step counts; a schedule that fails for a later tensor
   * must stop the step before an earlier one is written (checkStep runs for all first).
   */
  @Test
  void aBadLearningRateForALaterTensorWritesNoTensorOfTheStep() {
    float[] a = filled(5000, 1f);
    float[] b = filled(5000, 1f);
    float[] g = filled(5000, 0.5f);
    try (Optimizer opt = Optimizers.adamW8bit().learningRate(t -> t < 2 ? 1e-3f : Float.NaN)
        .build()) {
      opt.register("fresh", new long[] {5000}, a); // stepped first, at t = 1: fine
      opt.register("old", new long[] {5000}, b);
      opt.step("old", g); // "old" is now at t = 1, so its next step (t = 2) has no usable rate
      float[] b0 = b.clone();
      byte[] state0 = TestStates.snapshot(opt);
      Map<String, MemorySegment> grads = new LinkedHashMap<>();
      grads.put("fresh", MemorySegment.ofArray(g));
      grads.put("old", MemorySegment.ofArray(g));
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> opt.step(grads));
      assertTrue(e.getMessage().contains("step 2 of parameter 'old'"), e.getMessage());
      float[] ones = filled(5000, 1f);
      assertArrayEquals(ones, a, "the earlier tensor was written");
      assertArrayEquals(b0, b);
      assertArrayEquals(state0, TestStates.snapshot(opt));
      assertEquals(0, opt.stepCount("fresh"));
      assertEquals(1, opt.stepCount("old"));
    }
  }

  /**
   * A schedule that changes the optimizer from inside a step is refused before anything is
   * written. Without the refusal an unregister freed the state of a tensor the step was about
   * to update: the tensor before it was stepped, then the step failed with "Already closed".
   */
  @Test
  void aScheduleThatChangesTheOptimizerDuringAStepIsRefusedAndWritesNothing() throws Exception {
    java.nio.file.Path file = java.nio.file.Files.createTempFile("lowbit-reentry", ".safetensors");
    float[] a = filled(5000, 1f);
    float[] b = filled(5000, 1f);
    float[] g = filled(5000, 0.5f);
    Optimizer[] self = new Optimizer[1];
    Call[] during = new Call[1];
    try (Optimizer opt = Optimizers.adamW8bit().learningRate(t -> {
      if (during[0] != null) {
        try {
          during[0].run();
        } catch (RuntimeException e) {
          throw e;
        } catch (Exception e) { // load's CheckpointException: not expected here
          throw new IllegalStateException(e);
        }
      }
      return 1e-3f;
    }).build()) {
      self[0] = opt;
      opt.register("a", new long[] {5000}, a);
      opt.register("b", new long[] {5000}, b);
      opt.step("a", g);
      opt.save(file);
      Map<String, Call> calls = new LinkedHashMap<>();
      calls.put("unregister", () -> self[0].unregister("b"));
      calls.put("register", () -> self[0].register("c", new long[] {1}, new float[1]));
      calls.put("rename", () -> self[0].rename("b", "c"));
      calls.put("rebind", () -> self[0].rebind("b", new float[5000]));
      calls.put("load", () -> self[0].load(file));
      calls.put("step", () -> self[0].step("b", g));
      calls.put("close", () -> self[0].close());
      Map<String, MemorySegment> grads = new LinkedHashMap<>();
      grads.put("a", MemorySegment.ofArray(g));
      grads.put("b", MemorySegment.ofArray(g));
      for (Map.Entry<String, Call> c : calls.entrySet()) {
        float[] a0 = a.clone();
        float[] b0 = b.clone();
        byte[] state0 = TestStates.snapshot(opt);
        during[0] = c.getValue();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> opt.step(grads),
            c.getKey());
        assertEquals("cannot " + c.getKey() + " while a step of this optimizer runs (called from"
            + " its learning-rate schedule or another callback)", e.getMessage(), c.getKey());
        during[0] = null;
        assertArrayEquals(a0, a, c.getKey());
        assertArrayEquals(b0, b, c.getKey());
        assertArrayEquals(state0, TestStates.snapshot(opt), c.getKey());
        assertEquals(Set.of("a", "b"), opt.parameterNames(), c.getKey());
        assertEquals(1, opt.stepCount("a"), c.getKey());
        assertEquals(0, opt.stepCount("b"), c.getKey());
      }
      opt.step(grads); // the refusals left the optimizer usable
      assertEquals(2, opt.stepCount("a"));
      assertEquals(1, opt.stepCount("b"));
    } finally {
      java.nio.file.Files.deleteIfExists(file);
    }
  }

  /** StateFormat.blockwise takes the block sizes Normalization does: powers of two 32 to 4096. */
  @Test
  void blockwiseStateFormatsTakeBlocksFrom32To4096() {
    for (int b : new int[] {32, 64, 2048, 4096}) {
      assertEquals(b, StateFormat.blockwise(dev.lowbit.quant.CodeBook.LINEAR_4, b).blockSize());
    }
    for (int b : new int[] {16, 31, 96, 8192}) {
      assertMessage(
          "blockSize", () -> StateFormat.blockwise(dev.lowbit.quant.CodeBook.LINEAR_4, b));
    }
  }

  /** CommonOptions is a public record: its constructor checks what the builder's setters check. */
  @Test
  void commonOptionsCheckEveryValue() {
    LearningRateSchedule lr = LearningRateSchedule.constant(1e-3f);
    NonFinitePolicy p = NonFinitePolicy.THROW;
    new CommonOptions(lr, 0f, 0f, 0f, 1f, p, 1);
    assertMessage("clipGlobalNorm", () -> new CommonOptions(lr, -1f, 0f, 0f, 1f, p, 1));
    assertMessage("clipTensorNorm", () -> new CommonOptions(lr, 0f, Float.NaN, 0f, 1f, p, 1));
    assertMessage(
        "clipValue", () -> new CommonOptions(lr, 0f, 0f, Float.POSITIVE_INFINITY, 1f, p, 1));
    assertMessage("rescaleGradient", () -> new CommonOptions(lr, 0f, 0f, 0f, 0f, p, 1));
    assertMessage("rescaleGradient", () -> new CommonOptions(lr, 0f, 0f, 0f, -0f, p, 1));
    assertMessage("threads", () -> new CommonOptions(lr, 0f, 0f, 0f, 1f, p, 0));
  }

  /**
   * largestGradient: a clipValue of at most 2^63 ("by no more than that") bounds the rescaled
   * value, so any finite gradient is accepted; above it, the limit is 2^63 / gradScale.
   */
  @Test
  void aValueClipOfExactly2To63StillBoundsTheGradient() {
    LearningRateSchedule lr = LearningRateSchedule.constant(1e-3f);
    CommonOptions at = new CommonOptions(lr, 0f, 0f, 0x1p63f, 4f, NonFinitePolicy.THROW, 1);
    assertEquals(Float.MAX_VALUE, at.largestGradient());
    CommonOptions above =
        new CommonOptions(lr, 0f, 0f, Math.nextUp(0x1p63f), 4f, NonFinitePolicy.THROW, 1);
    assertEquals(0x1p61f, above.largestGradient());
    CommonOptions none = new CommonOptions(lr, 0f, 0f, 0f, 4f, NonFinitePolicy.THROW, 1);
    assertEquals(0x1p61f, none.largestGradient());
  }

  @Test
  void optionsAreValidatedWithTheirNames() {
    assertMessage("learningRate", () -> Optimizers.adamW().learningRate(-1f));
    assertMessage("learningRate", () -> Optimizers.adamW().learningRate(Float.NaN));
    assertMessage("beta1", () -> Optimizers.adamW().beta1(1f));
    assertMessage("beta2", () -> Optimizers.adamW().betas(0.9f, -0.1f));
    assertMessage("epsilon", () -> Optimizers.adamW().epsilon(0f));
    assertMessage("weightDecay", () -> Optimizers.adamW().weightDecay(Float.POSITIVE_INFINITY));
    assertMessage("momentum", () -> Optimizers.sgd().momentum(1.5f));
    assertMessage("nesterov", () -> Optimizers.sgd().momentum(0f).nesterov(true).build());
    assertMessage("minQuantizedSize", () -> Optimizers.sgd().minQuantizedSize(-1));
    assertMessage("clipGlobalNorm", () -> Optimizers.sgd().clipGlobalNorm(-1f));
    assertMessage("clipTensorNorm", () -> Optimizers.sgd().clipTensorNorm(Float.NaN));
    assertMessage("clipValue", () -> Optimizers.sgd().clipValue(-2f));
    assertMessage("rescaleGradient", () -> Optimizers.sgd().rescaleGradient(0f));
    assertMessage("threads", () -> Optimizers.sgd().threads(0));
    assertMessage("override regex", () -> Optimizers.sgd().override("(", Precision.FP32));
    assertMessage("firstMoment", () -> Optimizers.adamW().stateFormats(
        StateFormat.rank1(dev.lowbit.quant.CodeBook.LINEAR_4), StateFormat.float32()));
    assertMessage("firstMoment", () -> Optimizers.adamW().stateFormats(
        StateFormat.blockwise(dev.lowbit.quant.CodeBook.DYNAMIC_UNSIGNED_8, 256),
        StateFormat.float32()));
    assertMessage("stateFormat", () -> Optimizers.sgd().stateFormat(StateFormat.factorized()));
    assertMessage("blockSize", () -> StateFormat.blockwise(dev.lowbit.quant.CodeBook.LINEAR_4,
        100));
  }

  private static void assertMessage(String option, Runnable r) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
    assertTrue(e.getMessage().contains(option), e.getMessage());
  }

  @Test
  void parametersAddedLaterGetFreshStateAndRemovedOnesAreDropped() {
    SplittableRandom rnd = new SplittableRandom(8);
    float[] w = TestStates.gaussian(rnd, 8192, 0.1);
    float[] later = w.clone();
    try (Optimizer opt = Optimizers.adamW8bit().build();
        Optimizer fresh = Optimizers.adamW8bit().build()) {
      opt.register("w", new long[] {8192}, w);
      for (int s = 0; s < 3; s++) {
        opt.step("w", TestStates.gaussian(rnd, 8192, 0.01));
      }
      long oneBytes = opt.stateBytes();
      opt.register("later", new long[] {8192}, later);
      assertEquals(0, opt.stepCount("later"));
      assertEquals(2 * oneBytes, opt.stateBytes());
      float[] twin = w.clone();
      System.arraycopy(w, 0, later, 0, w.length);
      fresh.register("later", new long[] {8192}, twin);
      float[] g = TestStates.gaussian(rnd, 8192, 0.01);
      opt.step("later", g);
      fresh.step("later", g);
      assertArrayEquals(twin, later, "a late parameter must start from zero state");
      MemorySegment wState = TestStates.moment(opt, "w", 0).parts.get(0).segment();
      opt.unregister("w");
      assertFalse(wState.scope().isAlive(), "unregister must free the state's memory");
      assertEquals(java.util.Set.of("later"), opt.parameterNames());
      assertEquals(oneBytes, opt.stateBytes());
      assertThrows(IllegalArgumentException.class, () -> opt.stepCount("w"));
      opt.register("w", new long[] {8192}, w);
      assertEquals(0, opt.stepCount("w"));
      MemorySegment laterState = TestStates.moment(opt, "later", 1).parts.get(0).segment();
      opt.close();
      assertFalse(laterState.scope().isAlive(), "close must free every state's memory");
    }
  }

  @Test
  void nativeSegmentsWorkLikeArrays() {
    SplittableRandom rnd = new SplittableRandom(9);
    float[] w = TestStates.gaussian(rnd, 5000, 0.1);
    float[] g = TestStates.gaussian(rnd, 5000, 0.01);
    try (Arena arena = Arena.ofShared();
        Optimizer heap = Optimizers.adamW4bit().build();
        Optimizer offHeap = Optimizers.adamW4bit().build()) {
      MemorySegment native1 = arena.allocate(5000L * 4, 64);
      MemorySegment.copy(w, 0, native1, java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, 5000);
      MemorySegment nativeGrad = arena.allocate(5000L * 4, 64);
      MemorySegment.copy(g, 0, nativeGrad, java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, 5000);
      heap.register("w", new long[] {50, 100}, w);
      offHeap.register("w", new long[] {50, 100}, native1);
      heap.step("w", g);
      offHeap.step("w", nativeGrad);
      assertArrayEquals(w, native1.toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT));
      assertNotEquals(0f, w[0]);
    }
  }

  @Test
  void confinedSegmentsAreRefusedWhenWorkerThreadsCouldTouchThem() {
    try (Arena arena = Arena.ofConfined();
        Optimizer multi = Optimizers.sgd().threads(2).build();
        Optimizer single = Optimizers.sgd().threads(1).build()) {
      MemorySegment values = arena.allocate(16, 4);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> multi.register("w", new long[] {4}, values));
      assertTrue(e.getMessage().contains("confined"), e.getMessage());
      single.register("w", new long[] {4}, values);
      single.step("w", arena.allocate(16, 4));
    }
  }

  @Test
  void aClosedOptimizerRefusesUse() {
    Optimizer opt = Optimizers.sgd().build();
    opt.register("w", new long[] {3}, new float[3]);
    opt.close();
    opt.close();
    assertThrows(IllegalStateException.class, () -> opt.step("w", new float[3]));
    assertThrows(IllegalStateException.class, () -> opt.register("v", new long[] {1},
        new float[1]));
  }

  /**
   * Every entry point refuses a closed optimizer, including the per-name queries and the
   * checkpoint calls a wrapping optimizer makes directly (close drops the parameters, so without
   * the check writeCheckpoint would write a checkpoint with none, and readCheckpoint would blame
   * the file).
   */
  @Test
  void aClosedOptimizerRefusesEveryEntryPoint() throws java.io.IOException {
    java.nio.file.Path file = java.nio.file.Files.createTempFile("lowbit-closed", ".safetensors");
    try {
      try (Optimizer open = Optimizers.sgd().build()) {
        open.register("w", new long[] {3}, new float[3]);
        open.save(file);
      }
      Optimizer opt = Optimizers.sgd().build();
      opt.register("w", new long[] {3}, new float[3]);
      opt.close();
      assertClosed(() -> opt.stepCount("w"));
      assertClosed(() -> opt.stateBytes("w"));
      assertClosed(() -> opt.unregister("w"));
      assertClosed(() -> opt.writeCheckpoint(new CheckpointWriter(), ""));
      try (CheckpointReader in = CheckpointReader.open(file)) {
        assertClosed(() -> opt.readCheckpoint(in, ""));
      }
      assertClosed(() -> opt.save(file));
      assertClosed(() -> opt.load(file));
      // Refused for being closed before anything else is looked at: a step naming no tensor
      // would otherwise do nothing, a missing file would otherwise be blamed.
      assertClosed(() -> opt.step(Map.of()));
      assertClosed(() -> opt.load(file.resolveSibling("lowbit-closed-missing.safetensors")));
      // Close forgets the parameters along with their freed states.
      assertEquals(Set.of(), opt.parameterNames());
      assertEquals(0, opt.stateBytes());
    } finally {
      java.nio.file.Files.deleteIfExists(file);
    }
  }

  private interface Call {
    void run() throws Exception;
  }

  private static void assertClosed(Call call) {
    IllegalStateException e = assertThrows(IllegalStateException.class, call::run);
    assertEquals("optimizer is closed", e.getMessage());
  }

  /**
   * A learning rate of exactly 0 is usable ("finite and >= 0"): a schedule that decays to 0, or
   * warms up from it, steps without moving the parameters (AdamW's decay is lr * wd, so 0 too)
   * while the moments still advance.
   */
  @Test
  void aScheduleThatReachesZeroStepsWithoutMovingTheParameters() {
    float[] w = filled(5000, 1f);
    float[] g = filled(5000, 0.5f);
    try (Optimizer opt = Optimizers.adamW8bit().learningRate(t -> 0f).build()) {
      opt.register("w", new long[] {5000}, w);
      byte[] state0 = TestStates.snapshot(opt);
      opt.step("w", g);
      float[] ones = filled(5000, 1f);
      assertArrayEquals(ones, w);
      assertEquals(1, opt.stepCount("w"));
      assertFalse(
          java.util.Arrays.equals(state0, TestStates.snapshot(opt)), "the moments advanced");
    }
  }

  /** A new array of {@code n} copies of {@code value}. */
  private static float[] filled(int n, float value) {
    float[] f = new float[n];
    java.util.Arrays.fill(f, value);
    return f;
  }
}
