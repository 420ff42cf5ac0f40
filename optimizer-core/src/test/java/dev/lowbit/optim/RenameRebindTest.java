package dev.lowbit.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link Optimizer#rename} behaves exactly like registering under the new name from the start;
 * {@link Optimizer#rebind} keeps the state and steps the new memory; refused calls change nothing.
 */
class RenameRebindTest {

  @TempDir Path dir;

  /** Rank 2, rank 4 (rank-1 scales over 4 dims), 1-D and scalar: every state layout. */
  private static final Map<String, long[]> SHAPES = new LinkedHashMap<>();

  static {
    SHAPES.put("fc.weight", new long[] {64, 96});
    SHAPES.put("conv.weight", new long[] {4, 6, 8, 5});
    SHAPES.put("fc.bias", new long[] {300});
    SHAPES.put("gain", new long[] {});
  }

  static Stream<Arguments> configs() {
    return Stream.of(
            new NamedBuilder("adamW32", Optimizers::adamW32),
            new NamedBuilder("adamW8bit", Optimizers::adamW8bit),
            new NamedBuilder("adamW4bit", Optimizers::adamW4bit),
            new NamedBuilder("sgdMomentum4bit", Optimizers::sgdMomentum4bit))
        .map(Arguments::of);
  }

  /** Every tensor quantized (threshold 0), so the small test shapes reach the low-bit layouts. */
  private static Optimizer build(NamedBuilder c) {
    return c.builder().get().minQuantizedSize(0).build();
  }

  private static int count(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return (int) n;
  }

  /** Initial values per final name, the same for every run of a test. */
  private static Map<String, float[]> initial() {
    SplittableRandom rnd = new SplittableRandom(7);
    Map<String, float[]> p = new LinkedHashMap<>();
    SHAPES.forEach((name, shape) -> p.put(name, TestStates.gaussian(rnd, count(shape), 0.1)));
    return p;
  }

  /**
   * Step {@code step}'s gradients, in registration order; they depend only on the step and the
   * position, so a run under other names gets the same ones.
   */
  private static void step(Optimizer opt, int step) {
    SplittableRandom rnd = new SplittableRandom(1000 + step);
    Map<String, MemorySegment> grads = new LinkedHashMap<>();
    for (String name : opt.parameterNames()) {
      int n = Math.toIntExact(opt.parameter(name).length());
      grads.put(name, MemorySegment.ofArray(TestStates.gaussian(rnd, n, 0.01)));
    }
    opt.step(grads);
  }

  private static String oldName(String name) {
    return "runtime-" + name;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("configs")
  void renameThenStepSaveLoadEqualsTheNewNameFromTheStart(NamedBuilder c) throws IOException {
    Map<String, float[]> pa = initial();
    Map<String, float[]> pb = initial();
    Path fileA = dir.resolve("a.safetensors");
    Path fileB = dir.resolve("b.safetensors");
    try (Optimizer a = build(c); Optimizer b = build(c)) {
      pa.forEach((name, values) -> a.register(oldName(name), SHAPES.get(name), values));
      pb.forEach((name, values) -> b.register(name, SHAPES.get(name), values));
      for (int s = 0; s < 3; s++) {
        step(a, s);
        step(b, s);
      }
      // Out of registration order, and one of them between two steps.
      a.rename(oldName("fc.bias"), "fc.bias");
      a.rename(oldName("fc.weight"), "fc.weight");
      step(a, 3);
      step(b, 3);
      a.rename(oldName("gain"), "gain");
      a.rename(oldName("conv.weight"), "conv.weight");
      for (int s = 4; s < 6; s++) {
        step(a, s);
        step(b, s);
      }
      assertEquals(List.copyOf(b.parameterNames()), List.copyOf(a.parameterNames()));
      for (String name : SHAPES.keySet()) {
        assertArrayEquals(pb.get(name), pa.get(name), name);
        assertEquals(b.stepCount(name), a.stepCount(name), name);
        assertEquals(b.stateBytes(name), a.stateBytes(name), name);
      }
      assertArrayEquals(TestStates.snapshot(b), TestStates.snapshot(a));
      a.save(fileA);
      b.save(fileB);
      assertArrayEquals(Files.readAllBytes(fileB), Files.readAllBytes(fileA),
          "checkpoint after rename differs from one registered under the new names");
    }
    // Loading the renamed run's checkpoint resumes exactly like the reference.
    try (Optimizer resumed = build(c); Optimizer b = build(c)) {
      Map<String, float[]> pr = new LinkedHashMap<>();
      pa.forEach((name, values) -> pr.put(name, values.clone()));
      pr.forEach((name, values) -> resumed.register(name, SHAPES.get(name), values));
      resumed.load(fileA);
      pb.forEach((name, values) -> b.register(name, SHAPES.get(name), values));
      b.load(fileB);
      for (int s = 6; s < 9; s++) {
        step(resumed, s);
        step(b, s);
      }
      for (String name : SHAPES.keySet()) {
        assertArrayEquals(pb.get(name), pr.get(name), name);
      }
      assertArrayEquals(TestStates.snapshot(b), TestStates.snapshot(resumed));
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("configs")
  void rebindKeepsTheStateAndStepsTheNewMemory(NamedBuilder c) {
    String name = "fc.weight";
    long[] shape = SHAPES.get(name);
    float[] reference = initial().get(name);
    float[] first = reference.clone();
    try (Optimizer a = build(c); Optimizer b = build(c); Arena arena = Arena.ofShared()) {
      a.register(name, shape, first);
      b.register(name, shape, reference);
      for (int s = 0; s < 3; s++) {
        step(a, s);
        step(b, s);
      }
      // The float[] overload: a replaced array holding the same values.
      float[] second = first.clone();
      a.rebind(name, second);
      float[] firstAtRebind = first.clone();
      step(a, 3);
      step(b, 3);
      assertArrayEquals(reference, second);
      assertArrayEquals(firstAtRebind, first, "the old memory was written after rebind");
      // The segment overload: native memory.
      MemorySegment third = arena.allocate((long) Float.BYTES * second.length, Float.BYTES);
      MemorySegment.copy(second, 0, third, ValueLayout.JAVA_FLOAT, 0, second.length);
      a.rebind(name, third);
      float[] secondAtRebind = second.clone();
      for (int s = 4; s < 6; s++) {
        step(a, s);
        step(b, s);
      }
      assertArrayEquals(reference, third.toArray(ValueLayout.JAVA_FLOAT));
      assertArrayEquals(secondAtRebind, second, "the old memory was written after rebind");
      assertEquals(6, a.stepCount(name));
      assertEquals(third, a.parameter(name).values());
      assertArrayEquals(TestStates.snapshot(b), TestStates.snapshot(a));
    }
  }

  // ------------------------------------------------------------------ refused calls

  /** An optimizer with two stepped parameters and the snapshot of everything it holds. */
  private record Stepped(Optimizer opt, Map<String, float[]> values) implements AutoCloseable {

    static Stepped of(OptimizerBuilder<?> builder) {
      Optimizer opt = builder.minQuantizedSize(0).build();
      Map<String, float[]> values = new LinkedHashMap<>();
      SplittableRandom rnd = new SplittableRandom(3);
      values.put("w", TestStates.gaussian(rnd, 64 * 96, 0.1));
      values.put("b", TestStates.gaussian(rnd, 300, 0.1));
      opt.register("w", new long[] {64, 96}, values.get("w"));
      opt.register("b", new long[] {300}, values.get("b"));
      step(opt, 0);
      step(opt, 1);
      return new Stepped(opt, values);
    }

    byte[] snapshot() {
      return TestStates.snapshot(opt);
    }

    /** The refused call changed nothing, and the next step updates the original arrays. */
    void assertUnchanged(byte[] before) {
      assertArrayEquals(before, snapshot());
      assertEquals(List.of("w", "b"), List.copyOf(opt.parameterNames()));
      float[] w = values.get("w").clone();
      step(opt, 2);
      assertNotEquals(java.util.Arrays.toString(w), java.util.Arrays.toString(values.get("w")),
          "the registered array was not stepped");
      assertEquals(3, opt.stepCount("w"));
    }

    @Override
    public void close() {
      opt.close();
    }
  }

  private static void assertMessageNames(RuntimeException e, String... parts) {
    for (String part : parts) {
      assertTrue(e.getMessage().contains(part), "'" + part + "' not in: " + e.getMessage());
    }
  }

  @Test
  void renameOfAnUnknownParameterIsRefused() {
    try (Stepped s = Stepped.of(Optimizers.adamW8bit())) {
      byte[] before = s.snapshot();
      var e = assertThrows(IllegalArgumentException.class, () -> s.opt().rename("nope", "x"));
      assertMessageNames(e, "'nope'");
      s.assertUnchanged(before);
    }
  }

  @Test
  void renameToATakenEmptyOrNullNameIsRefused() {
    try (Stepped s = Stepped.of(Optimizers.adamW4bit())) {
      byte[] before = s.snapshot();
      var taken = assertThrows(IllegalArgumentException.class, () -> s.opt().rename("w", "b"));
      assertMessageNames(taken, "'w'", "'b'", "already registered");
      var self = assertThrows(IllegalArgumentException.class, () -> s.opt().rename("w", "w"));
      assertMessageNames(self, "'w'", "already registered");
      var empty = assertThrows(IllegalArgumentException.class, () -> s.opt().rename("w", ""));
      assertMessageNames(empty, "'w'", "empty");
      assertThrows(NullPointerException.class, () -> s.opt().rename("w", null));
      s.assertUnchanged(before);
    }
  }

  @Test
  void registerRefusesAnEmptyName() {
    try (Optimizer opt = Optimizers.adamW32().build()) {
      var e = assertThrows(IllegalArgumentException.class,
          () -> opt.register("", new long[] {2}, new float[2]));
      assertMessageNames(e, "empty");
      assertTrue(opt.parameterNames().isEmpty());
    }
  }

  @Test
  void renameThatAnOverrideWouldGiveOtherFormatsIsRefused() {
    try (Stepped s = Stepped.of(Optimizers.adamW8bit().override("emb.*", Precision.FP32))) {
      byte[] before = s.snapshot();
      var e = assertThrows(IllegalArgumentException.class, () -> s.opt().rename("w", "emb.w"));
      assertMessageNames(e, "'w'", "'emb.w'", "formats");
      s.assertUnchanged(before);
    }
  }

  @Test
  void rebindRefusesUnknownNamesWrongSizesAndReadOnlyMemory() {
    try (Stepped s = Stepped.of(Optimizers.sgdMomentum8bit())) {
      byte[] before = s.snapshot();
      var unknown = assertThrows(IllegalArgumentException.class,
          () -> s.opt().rebind("nope", new float[300]));
      assertMessageNames(unknown, "'nope'");
      var shorter = assertThrows(IllegalArgumentException.class,
          () -> s.opt().rebind("w", new float[64 * 96 - 1]));
      assertMessageNames(shorter, "'w'", "bytes");
      var longer = assertThrows(IllegalArgumentException.class,
          () -> s.opt().rebind("b", new float[301]));
      assertMessageNames(longer, "'b'", "bytes");
      var readOnly = assertThrows(IllegalArgumentException.class,
          () -> s.opt().rebind("b", MemorySegment.ofArray(new float[300]).asReadOnly()));
      assertMessageNames(readOnly, "'b'", "read-only");
      assertThrows(NullPointerException.class, () -> s.opt().rebind("b", (float[]) null));
      s.assertUnchanged(before);
    }
  }

  /**
   * An optimizer that does not override {@link Optimizer#moveState} (nothing of its own follows
   * the parameter) keeps the very state object across rename and rebind: none is built or freed.
   */
  @Test
  void withoutAMoveStateOverrideRenameAndRebindKeepTheSameState() {
    try (CountingOptimizer opt = new CountingOptimizer()) {
      opt.register("a", new long[] {2}, new float[2]);
      opt.step("a", new float[2]);
      ParameterState before = opt.state("a");
      opt.rename("a", "c");
      opt.rebind("c", new float[2]);
      assertSame(before, opt.state("c"));
      assertEquals(1, opt.openStates());
      opt.step("c", new float[2]);
      assertEquals(2, opt.stepCount("c"));
      assertEquals(4, opt.stateBytes("c"));
    }
  }

  @Test
  void aClosedOptimizerRefusesRenameAndRebind() {
    Optimizer opt = Optimizers.adamW32().build();
    opt.register("w", new long[] {2}, new float[2]);
    opt.close();
    assertThrows(IllegalStateException.class, () -> opt.rename("w", "v"));
    assertThrows(IllegalStateException.class, () -> opt.rebind("w", new float[2]));
  }
}
