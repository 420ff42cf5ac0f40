package dev.lowbit.bench.memory;

import dev.lowbit.optim.Optimizer;
import dev.lowbit.optim.Optimizers;
import dev.lowbit.optim.shampoo.Shampoo;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.OptionalLong;
import java.util.function.Supplier;

/**
 * Measures state through the core optimizers ({@code dev.lowbit.optim}): builds the preset,
 * registers every tensor of the model and reads {@link Optimizer#stateBytes()}.
 *
 * <p>Registering allocates the real state (codes, scales, statistics) in the optimizer's own
 * memory (Shampoo's preconditioners live on the Java heap). The parameters themselves are never
 * stepped, so every tensor is registered on a slice of one shared native buffer as large as the
 * largest tensor: measuring GPT-2 355M needs about 200 MB for parameters instead of 1.4 GB, plus
 * the state being measured.
 */
public final class CoreStateMeasurer implements StateMeasurer {

  private static final Map<String, Supplier<Optimizer>> PRESETS =
      Map.of(
          "adamw32", () -> Optimizers.adamW32().build(),
          "adamw8bit", () -> Optimizers.adamW8bit().build(),
          "adamw4bit", () -> Optimizers.adamW4bit().build(),
          "adamw4bit-factorized", () -> Optimizers.adamW4bitFactorized().build(),
          "sgdm32", () -> Optimizers.sgdMomentum32().build(),
          "sgdm8bit", () -> Optimizers.sgdMomentum8bit().build(),
          "sgdm4bit", () -> Optimizers.sgdMomentum4bit().build(),
          "shampoo32", () -> Shampoo.shampoo32(Optimizers.adamW32().build()).build(),
          "shampoo4bit", () -> Shampoo.shampoo4bit(Optimizers.adamW32().build()).build());

  /** Creates the measurer. */
  public CoreStateMeasurer() {}

  /**
   * Shampoo keeps its preconditioners in Java arrays: measure it only when they take at most half
   * of the heap that is still free, so a large model is reported as computed-only instead of
   * ending the command with an {@code OutOfMemoryError}.
   */
  private static boolean fitsOnHeap(String optimizer, ModelShapes model) {
    for (ShampooLayout shampoo : ShampooLayout.presets()) {
      if (shampoo.name().equals(optimizer)) {
        Runtime runtime = Runtime.getRuntime();
        long free = runtime.maxMemory() - (runtime.totalMemory() - runtime.freeMemory());
        long preconditioners = shampoo.bytes(model) - shampoo.base().bytes(model);
        return preconditioners <= free / 2;
      }
    }
    return true;
  }

  @Override
  public OptionalLong measure(String optimizer, ModelShapes model) {
    Supplier<Optimizer> preset = PRESETS.get(optimizer);
    if (preset == null || !fitsOnHeap(optimizer, model)) {
      return OptionalLong.empty();
    }
    long largest = 0;
    for (TensorShape t : model.tensors()) {
      largest = Math.max(largest, t.elements());
    }
    try (Arena arena = Arena.ofShared();
        Optimizer built = preset.get()) {
      MemorySegment shared = arena.allocate(4 * largest, 4);
      for (TensorShape t : model.tensors()) {
        built.register(t.name(), t.dims(), shared.asSlice(0, 4 * t.elements()));
      }
      return OptionalLong.of(built.stateBytes());
    }
  }
}
