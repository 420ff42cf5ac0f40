package dev.lowbit.optim.shampoo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.lowbit.optim.CheckpointEdits;
import dev.lowbit.optim.CheckpointException;
import dev.lowbit.optim.CountingOptimizer;
import dev.lowbit.optim.Optimizer;
import dev.lowbit.optim.Optimizers;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShampooCheckpointTest {

  @TempDir Path dir;

  static Shampoo build(ShampooPrecision precision, Supplier<Optimizer> base) {
    return Shampoo.builder(base.get())
        .precision(precision)
        .statisticsInterval(2)
        .inverseRootInterval(4)
        .build();
  }

  /** Weight 96 x 80 (both sides 4-bit in 4-bit Shampoo), a 3-d tensor and a bias. */
  static float[][] register(Optimizer opt, float[][] values) {
    opt.register("fc.weight", new long[] {96, 80}, values[0]);
    opt.register("conv.weight", new long[] {8, 1, 3, 3}, values[1]);
    opt.register("fc.bias", new long[] {96}, values[2]);
    return values;
  }

  static float[][] fresh() {
    return new float[][] {
      ShampooTest.randomFloats(96 * 80, 1),
      ShampooTest.randomFloats(72, 2),
      ShampooTest.randomFloats(96, 3)
    };
  }

  static void step(Optimizer opt, int s) {
    opt.step(
        java.util.Map.of(
            "fc.weight", seg(ShampooTest.randomFloats(96 * 80, 100 + s)),
            "conv.weight", seg(ShampooTest.randomFloats(72, 200 + s)),
            "fc.bias", seg(ShampooTest.randomFloats(96, 300 + s))));
  }

  static java.lang.foreign.MemorySegment seg(float[] f) {
    return java.lang.foreign.MemorySegment.ofArray(f);
  }

  static float[][] copy(float[][] v) {
    float[][] c = new float[v.length][];
    for (int i = 0; i < v.length; i++) {
      c[i] = v[i].clone();
    }
    return c;
  }

  /** A load that fails at its last check frees the base states it built too. */
  @Test
  void aFailedLoadFreesTheBaseStatesItBuilt() throws Exception {
    CountingOptimizer base = new CountingOptimizer();
    try (Shampoo opt = Shampoo.builder(base).statisticsInterval(1).inverseRootInterval(1)
        .build()) {
      register(opt, fresh());
      step(opt, 1);
      Path stray = dir.resolve("stray.safetensors");
      CountingOptimizer.saveWithAnExtraTensor(opt, stray);
      for (int i = 0; i < 3; i++) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> opt.load(stray));
        assertTrue(e.getMessage().contains("'stray'"), e.getMessage());
        assertEquals(3, base.openStates(), "base states built by the failed load are still open");
      }
      Path good = dir.resolve("good.safetensors");
      opt.save(good);
      opt.load(good);
      assertEquals(3, base.openStates());
      assertEquals(1, base.stepCount("fc.weight"));
    }
    assertEquals(0, base.openStates());
  }

  /**
   * Only Shampoo steps its base, once per step of its own, so every checkpoint it writes has
   * equal step counts for a parameter in both. A file whose counts differ (edited with its CRCs
   * resealed, or spliced from two runs) is refused naming the file, the parameter and both
   * counts, with the base behind (on a preconditioned weight) and ahead (on a bias, Shampoo's own
   * count edited). The refused load changes nothing: the next step equals that of an optimizer
   * that never tried it.
   */
  @Test
  void aStepCountThatDiffersFromTheBasesIsRefusedAndChangesNothing() throws Exception {
    Supplier<Shampoo> shampoo = () ->
        build(ShampooPrecision.FOUR_BIT, () -> Optimizers.adamW32().learningRate(0.01f).build());
    Path file = dir.resolve("steps.safetensors");
    Path tampered = dir.resolve("steps-edited.safetensors");
    try (Shampoo opt = shampoo.get(); Shampoo untouched = shampoo.get()) {
      float[][] values = register(opt, fresh());
      float[][] reference = register(untouched, fresh());
      for (int s = 0; s < 4; s++) {
        step(opt, s);
        step(untouched, s);
      }
      opt.save(file);
      float[][] atSave = copy(values);
      String[][] edits = {
        {entry("base/lowbit.param/fc.weight", "[96,80]", 4),
          entry("base/lowbit.param/fc.weight", "[96,80]", 3),
          "parameter 'fc.weight': step 4 (metadata 'lowbit.param/fc.weight') differs from the"
              + " base optimizer's step 3 (metadata 'base/lowbit.param/fc.weight')"},
        {entry("lowbit.param/fc.bias", "[96]", 4), entry("lowbit.param/fc.bias", "[96]", 1),
          "parameter 'fc.bias': step 1 (metadata 'lowbit.param/fc.bias') differs from the"
              + " base optimizer's step 4 (metadata 'base/lowbit.param/fc.bias')"}
      };
      for (String[] edit : edits) {
        Files.copy(file, tampered, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        CheckpointEdits.editHeader(tampered, h -> {
          assertTrue(h.contains(edit[0]), h);
          return h.replace(edit[0], edit[1]);
        });
        CheckpointException e = assertThrows(CheckpointException.class, () -> opt.load(tampered));
        assertTrue(e.getMessage().startsWith("checkpoint " + tampered + ": " + edit[2]),
            e.getMessage());
        for (String name : opt.parameterNames()) {
          assertEquals(4, opt.stepCount(name), name);
          assertEquals(4, opt.base().stepCount(name), name);
        }
        for (int i = 0; i < values.length; i++) {
          assertArrayEquals(atSave[i], values[i], "tensor " + i);
        }
        // Every statistic, root, moment and count, as a save writes them.
        Path after = dir.resolve("after.safetensors");
        opt.save(after);
        assertArrayEquals(Files.readAllBytes(file), Files.readAllBytes(after), edit[2]);
      }
      step(opt, 4);
      step(untouched, 4);
      for (int i = 0; i < values.length; i++) {
        assertArrayEquals(reference[i], values[i], "tensor " + i + " after the next step");
      }
      Path mine = dir.resolve("mine.safetensors");
      Path theirs = dir.resolve("theirs.safetensors");
      opt.save(mine);
      untouched.save(theirs);
      assertArrayEquals(Files.readAllBytes(theirs), Files.readAllBytes(mine));
    }
  }

  /** A load refused for its step counts frees the base states it had built. */
  @Test
  void aLoadRefusedForItsStepCountsFreesTheBaseStatesItBuilt() throws Exception {
    CountingOptimizer base = new CountingOptimizer();
    try (Shampoo opt = Shampoo.builder(base).build()) {
      register(opt, fresh());
      step(opt, 1);
      Path file = dir.resolve("counting.safetensors");
      opt.save(file);
      CheckpointEdits.editHeader(file, h -> {
        String from = entry("base/lowbit.param/conv.weight", "[8,1,3,3]", 1);
        assertTrue(h.contains(from), h);
        return h.replace(from, entry("base/lowbit.param/conv.weight", "[8,1,3,3]", 0));
      });
      for (int i = 0; i < 3; i++) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> opt.load(file));
        assertTrue(e.getMessage().contains("'conv.weight': step 1"), e.getMessage());
        assertEquals(3, base.openStates(), "base states built by the refused load are open");
      }
    }
    assertEquals(0, base.openStates());
  }

  /**
   * How a parameter's metadata entry starts in the raw header: its value is JSON inside a JSON
   * string, so its quotes are escaped. The leading quote tells Shampoo's key from its base's.
   */
  private static String entry(String key, String shape, long step) {
    return "\"" + key + "\":\"{\\\"shape\\\":" + shape + ",\\\"step\\\":" + step + ",";
  }

  @Test
  void resumeIsExactFor32BitOverAdamW() throws Exception {
    exactResume(ShampooPrecision.FP32, () -> Optimizers.adamW32().learningRate(0.01f).build());
  }

  @Test
  void resumeIsExactFor4BitOver4BitAdamW() throws Exception {
    exactResume(
        ShampooPrecision.FOUR_BIT, () -> Optimizers.adamW4bit().learningRate(0.01f).build());
  }

  @Test
  void resumeIsExactFor4BitOver8BitSgd() throws Exception {
    exactResume(
        ShampooPrecision.FOUR_BIT, () -> Optimizers.sgdMomentum8bit().learningRate(0.01f).build());
  }

  private void exactResume(ShampooPrecision precision, Supplier<Optimizer> base)
      throws Exception {
    Path file = dir.resolve("shampoo-" + precision + ".safetensors");
    float[][] straight;
    float[][] atSave;
    try (Shampoo opt = build(precision, base)) {
      straight = register(opt, fresh());
      for (int s = 0; s < 5; s++) {
        step(opt, s);
      }
      opt.save(file);
      atSave = copy(straight);
      for (int s = 5; s < 11; s++) {
        step(opt, s);
      }
    }
    try (Shampoo resumed = build(precision, base)) {
      float[][] values = register(resumed, atSave);
      resumed.load(file);
      assertEquals(5, resumed.stepCount("fc.weight"));
      assertEquals(5, resumed.base().stepCount("fc.weight"));
      for (int s = 5; s < 11; s++) {
        step(resumed, s);
      }
      for (int i = 0; i < values.length; i++) {
        assertArrayEquals(straight[i], values[i], precision + " tensor " + i);
      }
    }
  }

  @Test
  void mismatchedCheckpointIsRefusedAndChangesNothing() throws Exception {
    Path file = dir.resolve("fp32.safetensors");
    try (Shampoo opt = build(ShampooPrecision.FP32, () -> Optimizers.adamW32().build())) {
      register(opt, fresh());
      step(opt, 0);
      opt.save(file);
    }
    try (Shampoo other = build(ShampooPrecision.FOUR_BIT, () -> Optimizers.adamW32().build())) {
      register(other, fresh());
      step(other, 0);
      step(other, 1);
      long bytes = other.stateBytes();
      ShampooMemory memory = other.memory();
      CheckpointException e = assertThrows(CheckpointException.class, () -> other.load(file));
      assertTrue(e.getMessage().contains("fc.weight"), e.getMessage());
      assertEquals(2, other.stepCount("fc.weight"));
      assertEquals(2, other.base().stepCount("fc.weight"));
      assertEquals(bytes, other.stateBytes());
      assertEquals(memory, other.memory());
      step(other, 2);
    }
  }

  /**
   * A checkpoint is refused unless the code book and the block size match (docs: the same
   * precision, code book, block size and layout), even where the tensors would fit: 4-bit codes
   * read with another book decode to other values, and another block size is another optimizer.
   */
  @Test
  void anotherCodeBookOrBlockSizeIsRefused() throws Exception {
    Path file = dir.resolve("book.safetensors");
    try (Shampoo opt = build(ShampooPrecision.FOUR_BIT, () -> Optimizers.adamW32().build())) {
      register(opt, fresh());
      step(opt, 0);
      step(opt, 1);
      opt.save(file);
    }
    java.util.List<Shampoo.Builder> others = java.util.List.of(
        Shampoo.shampoo4bit(Optimizers.adamW32().build())
            .codeBook(dev.lowbit.quant.CodeBook.DE_SIGNED_4),
        Shampoo.shampoo4bit(Optimizers.adamW32().build()).maxPreconditionerDim(100));
    for (Shampoo.Builder builder : others) {
      try (Shampoo other = builder.statisticsInterval(2).inverseRootInterval(4).build()) {
        register(other, fresh());
        CheckpointException e = assertThrows(CheckpointException.class, () -> other.load(file));
        assertTrue(e.getMessage().contains("fc.weight"), e.getMessage());
        assertEquals(0, other.stepCount("fc.weight"));
      }
    }
    try (Shampoo same = build(ShampooPrecision.FOUR_BIT, () -> Optimizers.adamW32().build())) {
      register(same, fresh());
      same.load(file);
      assertEquals(2, same.stepCount("fc.weight"));
    }
  }

  /**
   * A preconditioner tensor holding NaN or infinity (with valid CRCs: a file written by other
   * code, or edited) is refused naming the tensor, as the core refuses non-finite moments.
   */
  @Test
  void aNonFinitePreconditionerIsRefused() throws Exception {
    for (ShampooPrecision precision : ShampooPrecision.values()) {
      Path file = dir.resolve(precision + ".safetensors");
      try (Shampoo opt = build(precision, () -> Optimizers.adamW32().build())) {
        register(opt, fresh());
        for (int s = 0; s < 4; s++) {
          step(opt, s);
        }
        opt.save(file);
      }
      String key = precision == ShampooPrecision.FP32
          ? "fc.weight/b0.left.root" : "fc.weight/b0.left.eigenvalues";
      for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY}) {
        Path tampered = dir.resolve(precision + "-bad.safetensors");
        java.nio.file.Files.copy(file, tampered, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        CheckpointEdits.overwriteFloat(tampered, key, 0, bad);
        try (Shampoo other = build(precision, () -> Optimizers.adamW32().build())) {
          register(other, fresh());
          other.load(file); // the untouched file loads
          CheckpointException e =
              assertThrows(CheckpointException.class, () -> other.load(tampered));
          assertTrue(e.getMessage().contains(key) && e.getMessage().contains("not finite"),
              e.getMessage());
        }
      }
    }
  }

  /**
   * The checkpoint's metadata, for its reader (docs/optimizers.md, shampoo.md): the kind
   * "shampoo", which another kind of optimizer refuses naming it; Shampoo's own hyperparameters;
   * and per parameter the state description: precision, code book, block size, the reshaped
   * layout and each block's two sides (4-bit or float32, and their order; a side below 64 x 64
   * stays float32 in 4-bit Shampoo).
   */
  @Test
  void theCheckpointRecordsTheKindTheHyperparametersAndEachLayout() throws IOException {
    Path file = dir.resolve("metadata.safetensors");
    try (Shampoo opt = build(ShampooPrecision.FOUR_BIT, () -> Optimizers.adamW32().build())) {
      register(opt, fresh());
      opt.save(file);
    }
    JsonObject meta = metadata(file);
    assertEquals("shampoo", meta.get("lowbit.optimizer").getAsString());
    assertEquals(
        JsonParser.parseString(
            "{\"precision\":\"FOUR_BIT\",\"code_book\":\"linear-square-signed-4\","
                + "\"statistics_interval\":2,\"inverse_root_interval\":4,\"beta\":0.95,"
                + "\"epsilon\":1.0E-6,\"max_preconditioner_dim\":1200}"),
        JsonParser.parseString(meta.get("lowbit.hyperparameters").getAsString()));
    assertEquals(
        JsonParser.parseString(
            "{\"precision\":\"FOUR_BIT\",\"code_book\":\"linear-square-signed-4\","
                + "\"max_preconditioner_dim\":1200,\"rows\":96,\"cols\":80,"
                + "\"blocks\":[\"4bit-96/4bit-80\"]}"),
        stateDescription(meta, "fc.weight"));
    assertEquals(
        JsonParser.parseString(
            "{\"precision\":\"FOUR_BIT\",\"code_book\":\"linear-square-signed-4\","
                + "\"max_preconditioner_dim\":1200,\"rows\":8,\"cols\":9,"
                + "\"blocks\":[\"fp32-8/fp32-9\"]}"),
        stateDescription(meta, "conv.weight"));
    // A bias is not preconditioned: no layout.
    assertEquals(
        JsonParser.parseString(
            "{\"precision\":\"FOUR_BIT\",\"code_book\":\"linear-square-signed-4\","
                + "\"max_preconditioner_dim\":1200}"),
        stateDescription(meta, "fc.bias"));
    try (Optimizer adamW = Optimizers.adamW32().build()) {
      CheckpointException e = assertThrows(CheckpointException.class, () -> adamW.load(file));
      assertTrue(e.getMessage().contains("'shampoo'"), e.getMessage());
    }
  }

  private static JsonObject stateDescription(JsonObject metadata, String parameter) {
    return JsonParser.parseString(metadata.get("lowbit.param/" + parameter).getAsString())
        .getAsJsonObject()
        .getAsJsonObject("state");
  }

  /** The safetensors header's {@code __metadata__}: a little-endian length, then JSON. */
  private static JsonObject metadata(Path file) throws IOException {
    byte[] bytes = Files.readAllBytes(file);
    int length = (int) ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
    return JsonParser.parseString(new String(bytes, 8, length, StandardCharsets.UTF_8))
        .getAsJsonObject()
        .getAsJsonObject("__metadata__");
  }
}
