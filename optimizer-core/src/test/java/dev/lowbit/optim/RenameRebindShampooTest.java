package dev.lowbit.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.optim.shampoo.Shampoo;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Shampoo keeps records of its own per parameter name (its preconditioners and the base
 * optimizer's registration): rename and rebind must carry them along.
 */
class RenameRebindShampooTest {

  @TempDir Path dir;

  private static final long[] SHAPE = {24, 40};
  private static final int N = 24 * 40;

  /** Statistics every step and roots every other step, so a few steps reach every part. */
  private static Supplier<Optimizer> shampoo4bit() {
    return () -> Shampoo.shampoo4bit(Optimizers.adamW8bit().minQuantizedSize(0).build())
        .statisticsInterval(1)
        .inverseRootInterval(2)
        .build();
  }

  private static float[] initial() {
    return TestStates.gaussian(new SplittableRandom(5), N, 0.1);
  }

  private static void step(Optimizer opt, String name, int step) {
    opt.step(name, TestStates.gaussian(new SplittableRandom(100 + step), N, 0.01));
  }

  @Test
  void renamedShampooEqualsTheNewNameFromTheStart() throws IOException {
    float[] pa = initial();
    float[] pb = initial();
    Path fileA = dir.resolve("a.safetensors");
    Path fileB = dir.resolve("b.safetensors");
    try (Optimizer a = shampoo4bit().get(); Optimizer b = shampoo4bit().get()) {
      a.register("uid-1", SHAPE, pa);
      b.register("w", SHAPE, pb);
      for (int s = 0; s < 4; s++) {
        step(a, "uid-1", s);
        step(b, "w", s);
      }
      a.rename("uid-1", "w");
      for (int s = 4; s < 7; s++) {
        step(a, "w", s);
        step(b, "w", s);
      }
      assertArrayEquals(pb, pa);
      assertEquals(List.of("w"), List.copyOf(((Shampoo) a).base().parameterNames()));
      assertEquals(((Shampoo) b).memory("w"), ((Shampoo) a).memory("w"));
      a.save(fileA);
      b.save(fileB);
      assertArrayEquals(Files.readAllBytes(fileB), Files.readAllBytes(fileA));
      // The renamed parameter's whole life still works: load into it, then drop it.
      a.load(fileB);
      a.unregister("w");
      assertTrue(((Shampoo) a).base().parameterNames().isEmpty());
    }
  }

  @Test
  void refusedShampooRenameChangesNothing() throws IOException {
    try (Optimizer a = shampoo4bit().get()) {
      a.register("w", SHAPE, initial());
      a.register("v", SHAPE, initial());
      step(a, "w", 0);
      Path before = dir.resolve("before.safetensors");
      a.save(before);
      assertThrows(IllegalArgumentException.class, () -> a.rename("w", "v"));
      assertThrows(IllegalArgumentException.class, () -> a.rename("nope", "x"));
      Path after = dir.resolve("after.safetensors");
      a.save(after);
      assertArrayEquals(Files.readAllBytes(before), Files.readAllBytes(after));
    }
  }

  @Test
  void reboundShampooStepsTheNewMemoryThroughItsBase() {
    float[] reference = initial();
    float[] first = initial();
    try (Optimizer a = shampoo4bit().get(); Optimizer b = shampoo4bit().get()) {
      a.register("w", SHAPE, first);
      b.register("w", SHAPE, reference);
      for (int s = 0; s < 3; s++) {
        step(a, "w", s);
        step(b, "w", s);
      }
      float[] second = first.clone();
      a.rebind("w", second);
      float[] firstAtRebind = first.clone();
      for (int s = 3; s < 6; s++) {
        step(a, "w", s);
        step(b, "w", s);
      }
      assertArrayEquals(reference, second);
      assertArrayEquals(firstAtRebind, first, "the old memory was written after rebind");
      assertEquals(MemorySegment.ofArray(second).address(),
          ((Shampoo) a).base().parameter("w").values().address());
    }
  }
}
