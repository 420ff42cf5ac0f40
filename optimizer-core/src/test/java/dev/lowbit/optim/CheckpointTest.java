package dev.lowbit.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Exact resume for every precision, and every kind of damaged or mismatched checkpoint. */
class CheckpointTest {

  @TempDir Path dir;

  /** Shapes that reach every layout: rank 2, rank 4 (rank-1 over 4 dims), 1-D, scalar, empty. */
  static final Map<String, long[]> SHAPES = new LinkedHashMap<>();

  static {
    SHAPES.put("fc.weight", new long[] {64, 96});
    SHAPES.put("conv.weight", new long[] {4, 6, 8, 5});
    SHAPES.put("fc.bias", new long[] {300});
    SHAPES.put("gain", new long[] {});
    SHAPES.put("empty", new long[] {0, 5});
  }

  /** Small shapes for the damaged-file tests, so that every byte of the file can be corrupted. */
  static final Map<String, long[]> SMALL = new LinkedHashMap<>();

  static {
    SMALL.put("w", new long[] {8, 40});
    SMALL.put("conv", new long[] {2, 3, 4});
    SMALL.put("b", new long[] {33});
    SMALL.put("gain", new long[] {});
  }

  static Stream<Arguments> configs() {
    return Stream.of(
            new NamedBuilder("adamW32", Optimizers::adamW32),
            new NamedBuilder("adamW8bit", Optimizers::adamW8bit),
            new NamedBuilder("adamW4bit", Optimizers::adamW4bit),
            new NamedBuilder("adamW4bitFactorized", Optimizers::adamW4bitFactorized),
            new NamedBuilder("adam L2 8bit", () -> Optimizers.adam().weightDecay(1e-3f)
                .precision(Precision.BLOCKWISE_8BIT)),
            new NamedBuilder("adamW8bit default threshold", () -> Optimizers.adamW8bit()),
            new NamedBuilder("sgdMomentum32", Optimizers::sgdMomentum32),
            new NamedBuilder("sgdMomentum8bit", Optimizers::sgdMomentum8bit),
            new NamedBuilder("sgdMomentum4bit nesterov",
                () -> Optimizers.sgdMomentum4bit().nesterov(true).weightDecay(1e-4f)))
        .map(Arguments::of);
  }

  /**
   * A float32 AdamW over one tensor "w" of 4 elements, saved after one step with g = 1, 2, 3, 4.
   */
  private static void saveAdamW32AfterOneStep(Path file) throws IOException {
    try (Optimizer opt = Optimizers.adamW32().build()) {
      opt.register("w", new long[] {4}, new float[4]);
      opt.step("w", new float[] {1, 2, 3, 4});
      opt.save(file);
    }
  }

  private static Optimizer build(NamedBuilder c) {
    OptimizerBuilder<?> b = c.builder().get();
    if (!c.name().contains("default threshold")) {
      b.minQuantizedSize(0);
    }
    return b.build();
  }

  private static Map<String, float[]> params(long seed) {
    return params(seed, SHAPES);
  }

  private static Map<String, float[]> params(long seed, Map<String, long[]> shapes) {
    SplittableRandom rnd = new SplittableRandom(seed);
    Map<String, float[]> p = new LinkedHashMap<>();
    shapes.forEach((name, shape) -> p.put(name, TestStates.gaussian(rnd, count(shape), 0.1)));
    return p;
  }

  private static int count(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return (int) n;
  }

  private static void register(Optimizer opt, Map<String, float[]> params) {
    params.forEach((name, values) -> opt.register(name, shapeOf(name), values));
  }

  private static long[] shapeOf(String name) {
    return SHAPES.containsKey(name) ? SHAPES.get(name) : SMALL.get(name);
  }

  /** Step {@code step} gets its own deterministic gradients. */
  private static void step(Optimizer opt, int step) {
    SplittableRandom rnd = new SplittableRandom(1000 + step);
    Map<String, java.lang.foreign.MemorySegment> grads = new LinkedHashMap<>();
    opt.parameterNames().forEach(name -> grads.put(name,
        java.lang.foreign.MemorySegment.ofArray(
            TestStates.gaussian(rnd, count(shapeOf(name)), 0.01))));
    opt.step(grads);
  }

  private static Map<String, float[]> copy(Map<String, float[]> p) {
    Map<String, float[]> c = new LinkedHashMap<>();
    p.forEach((k, v) -> c.put(k, v.clone()));
    return c;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("configs")
  void nPlusMStepsEqualNStepsSaveLoadMSteps(NamedBuilder c) throws IOException {
    Path file = dir.resolve("resume.safetensors");
    Map<String, float[]> pa = params(1);
    try (Optimizer a = build(c); Optimizer b = build(c)) {
      register(a, pa);
      for (int s = 0; s < 4; s++) {
        step(a, s);
      }
      a.save(file);
      Map<String, float[]> pb = copy(pa);
      for (int s = 4; s < 7; s++) {
        step(a, s);
      }
      register(b, pb);
      b.load(file);
      for (int s = 4; s < 7; s++) {
        step(b, s);
      }
      for (String name : SHAPES.keySet()) {
        assertArrayEquals(pa.get(name), pb.get(name), name + " parameters differ after resume");
        assertEquals(a.stepCount(name), b.stepCount(name));
      }
      assertArrayEquals(TestStates.snapshot(a), TestStates.snapshot(b), "state differs");
      Path again = dir.resolve("again.safetensors");
      a.save(file);
      b.save(again);
      assertArrayEquals(Files.readAllBytes(file), Files.readAllBytes(again),
          "checkpoints of the two runs differ");
    }
  }

  // ------------------------------------------------------------------ damaged files

  private Optimizer damagedTarget() {
    Optimizer opt = Optimizers.adamW4bit().minQuantizedSize(0).build();
    register(opt, params(5, SMALL));
    step(opt, 50);
    step(opt, 51);
    return opt;
  }

  private byte[] goodFile() throws IOException {
    Path file = dir.resolve("good.safetensors");
    try (Optimizer opt = Optimizers.adamW4bit().minQuantizedSize(0).build()) {
      register(opt, params(3, SMALL));
      for (int s = 0; s < 3; s++) {
        step(opt, s);
      }
      opt.save(file);
    }
    return Files.readAllBytes(file);
  }

  private void assertRefused(Optimizer target, byte[] bytes, String expected) throws IOException {
    Path bad = dir.resolve("bad.safetensors");
    Files.write(bad, bytes);
    byte[] before = TestStates.snapshot(target);
    IOException e = assertThrows(IOException.class, () -> target.load(bad));
    assertTrue(e.getMessage().contains("bad.safetensors"), e.getMessage());
    if (expected != null) {
      assertTrue(e.getMessage().contains(expected),
          "message should mention '" + expected + "': " + e.getMessage());
    }
    assertArrayEquals(before, TestStates.snapshot(target), "a failed load changed the optimizer");
  }

  /**
   * A checkpoint of the 4-bit preset from before its m map moved to de1-signed-4: refused by
   * today's preset with both formats named, loaded by an optimizer built with the old formats.
   */
  @Test
  void aCheckpointWithTheOldFourBitFirstMomentMapLoadsWithThoseFormats() throws IOException {
    java.util.function.Supplier<Adam.Builder> old = () -> Optimizers.adamW()
        .stateFormats(StateFormat.blockwise(dev.lowbit.quant.CodeBook.DE_SIGNED_4, 128),
            Precision.FOUR_BIT.secondMoment())
        .minQuantizedSize(0);
    Path file = dir.resolve("old.safetensors");
    try (Optimizer writer = old.get().build()) {
      register(writer, params(5, SMALL));
      step(writer, 1);
      writer.save(file);
    }
    try (Optimizer preset = Optimizers.adamW4bit().minQuantizedSize(0).build()) {
      register(preset, params(5, SMALL));
      byte[] bytes = Files.readAllBytes(file);
      assertRefused(preset, bytes, "de-signed-4");
      assertRefused(preset, bytes, "de1-signed-4");
    }
    try (Optimizer reader = old.get().build()) {
      register(reader, params(5, SMALL));
      reader.load(file);
      assertEquals(1, reader.stepCount("w"));
    }
  }

  @Test
  void theGoodFileLoads() throws IOException {
    byte[] good = goodFile();
    try (Optimizer target = damagedTarget()) {
      Path file = dir.resolve("ok.safetensors");
      Files.write(file, good);
      target.load(file);
      assertEquals(3, target.stepCount("w"));
    }
  }

  @Test
  void everySingleCorruptedByteIsRefused() throws IOException {
    byte[] good = goodFile();
    SplittableRandom rnd = new SplittableRandom(9);
    try (Optimizer target = damagedTarget()) {
      for (int pos = 0; pos < good.length; pos++) {
        byte[] bad = good.clone();
        bad[pos] ^= (byte) (1 + rnd.nextInt(255));
        assertRefused(target, bad, null);
      }
    }
  }

  @Test
  void truncatedOrExtendedFilesAreRefused() throws IOException {
    byte[] good = goodFile();
    int headerEnd = 8 + (int) ByteBuffer.wrap(good, 0, 8).order(ByteOrder.LITTLE_ENDIAN)
        .getLong();
    try (Optimizer target = damagedTarget()) {
      for (int len : new int[] {0, 1, 7, 8, 9, 100, headerEnd - 1, headerEnd, headerEnd + 1,
          (headerEnd + good.length) / 2, good.length - 1}) {
        assertRefused(target, Arrays.copyOf(good, len), null);
      }
      assertRefused(target, Arrays.copyOf(good, good.length + 1), "truncated or extended");
      assertRefused(target, Arrays.copyOf(good, good.length - 1), "truncated or extended");
    }
  }

  @Test
  void aDirectoryOrAMissingFileIsRefusedByName() throws IOException {
    try (Optimizer target = damagedTarget()) {
      byte[] before = TestStates.snapshot(target);
      Path sub = Files.createDirectories(dir.resolve("ckpt.safetensors"));
      IOException e = assertThrows(CheckpointException.class, () -> target.load(sub));
      assertTrue(e.getMessage().contains(sub + ": is a directory"), e.getMessage());
      Path missing = dir.resolve("missing.safetensors");
      e = assertThrows(CheckpointException.class, () -> target.load(missing));
      assertTrue(e.getMessage().contains(missing + ": no such file"), e.getMessage());
      assertArrayEquals(before, TestStates.snapshot(target), "a failed load changed the optimizer");
    }
  }

  /**
   * A load that fails at its last check (a tensor no state reads), after every new state was
   * built, frees them; a load that succeeds frees the states it replaced.
   */
  @Test
  void aFailedLoadFreesTheStatesItBuilt() throws IOException {
    try (CountingOptimizer opt = new CountingOptimizer()) {
      opt.register("a", new long[] {2}, new float[2]);
      opt.register("b", new long[] {3}, new float[3]);
      opt.step("a", new float[2]);
      Path stray = dir.resolve("stray.safetensors");
      CountingOptimizer.saveWithAnExtraTensor(opt, stray);
      for (int i = 0; i < 3; i++) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> opt.load(stray));
        assertTrue(e.getMessage().contains("'stray'"), e.getMessage());
        assertEquals(2, opt.openStates(), "states built by the failed load are still open");
      }
      Path good = dir.resolve("good.safetensors");
      opt.save(good);
      opt.load(good);
      assertEquals(2, opt.openStates());
      assertEquals(1, opt.stepCount("a"));
    }
  }

  /**
   * A load that fails while building the state of a later parameter (its tensor has another
   * dtype) frees the states it already built for the earlier ones.
   */
  @Test
  void aLoadFailingAtALaterParametersStateFreesTheStatesBuiltBeforeIt() throws IOException {
    try (CountingOptimizer opt = new CountingOptimizer()) {
      opt.register("a", new long[] {2}, new float[2]);
      opt.register("b", new long[] {3}, new float[3]);
      Path file = dir.resolve("b-not-f32.safetensors");
      opt.save(file);
      // I32 has F32's size, so only readState's dtype check for 'b' refuses it.
      CheckpointEdits.editHeader(file,
          h -> h.replace("\"b/step\":{\"dtype\":\"F32\"", "\"b/step\":{\"dtype\":\"I32\""));
      CheckpointException e = assertThrows(CheckpointException.class, () -> opt.load(file));
      assertTrue(e.getMessage().contains("'b/step': dtype is I32, expected F32"), e.getMessage());
      assertEquals(2, opt.openStates(), "the state built for 'a' by the failed load is still open");
    }
  }

  /** A file of an 8-byte length and then {@code header}. */
  private static byte[] withHeader(long length, String header) {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(8 + h.length).order(ByteOrder.LITTLE_ENDIAN)
        .putLong(length).put(h).array();
  }

  /**
   * The header length's limits are exact: 8 bytes hold the length itself, 2 ("{}") is the
   * shortest header, so each is let through to the check that does apply to it.
   */
  @Test
  void theSmallestFileAndHeaderGetTheirOwnChecks() throws IOException {
    try (Optimizer target = damagedTarget()) {
      assertRefused(target, withHeader(0, ""), "header length 0 does not fit a file of 8 bytes");
      assertRefused(target, withHeader(2, "{}"), "'__metadata__' is missing");
    }
  }

  /**
   * A header of exactly {@link CheckpointReader#MAX_HEADER} bytes is read (and refused for what
   * it holds, here zero bytes that are not JSON); one byte more is refused by length. The file is
   * sparse, so the 100 MB cost no disk.
   */
  @Test
  void aHeaderOfExactlyTheLimitIsReadOneByteMoreIsNot() throws IOException {
    Path big = dir.resolve("big.safetensors");
    for (long n : new long[] {CheckpointReader.MAX_HEADER, CheckpointReader.MAX_HEADER + 1}) {
      try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(big,
          java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE,
          java.nio.file.StandardOpenOption.TRUNCATE_EXISTING)) {
        ch.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, n));
        ch.write(ByteBuffer.allocate(1), 8 + n); // one data byte, so n fits the file
      }
      CheckpointException e =
          assertThrows(CheckpointException.class, () -> CheckpointReader.open(big));
      String expected = n == CheckpointReader.MAX_HEADER
          ? "header is not valid JSON" : "header length " + n + " is above the limit";
      assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
  }

  /** A tensor entry whose data_offsets are not two numbers is refused with the count asked for. */
  @Test
  void dataOffsetsMustBeAPair() throws IOException {
    try (CountingOptimizer opt = new CountingOptimizer()) {
      opt.register("a", new long[] {2}, new float[2]);
      Path file = dir.resolve("one-offset.safetensors");
      opt.save(file);
      CheckpointEdits.editHeader(file, h -> h.replace("\"data_offsets\":[0,4]",
          "\"data_offsets\":[0]"));
      CheckpointException e = assertThrows(CheckpointException.class, () -> opt.load(file));
      assertTrue(e.getMessage().contains(
          "tensor 'a/step': data_offsets is missing or not an array of 2"), e.getMessage());
    }
  }

  /**
   * A file refused after it was mapped (here by a tensor's CRC) is unmapped again, as is one
   * loaded: neither stays in the process's mappings (a leaked mapping holds the file's memory
   * and, on some systems, keeps it from being deleted).
   */
  @Test
  void aRefusedFileIsUnmapped() throws IOException {
    Path maps = Path.of("/proc/self/maps");
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isReadable(maps), "needs /proc/self/maps");
    byte[] good = goodFile();
    Path bad = dir.resolve("crc.safetensors");
    byte[] damaged = good.clone();
    damaged[damaged.length - 1] ^= 1;
    Files.write(bad, damaged);
    Path ok = dir.resolve("ok.safetensors");
    Files.write(ok, good);
    try (Optimizer target = damagedTarget()) {
      CheckpointException e = assertThrows(CheckpointException.class, () -> target.load(bad));
      assertTrue(e.getMessage().contains("CRC32C mismatch"), e.getMessage());
      target.load(ok);
    }
    String mapped = Files.readString(maps);
    assertFalse(mapped.contains(bad.toString()), "the refused file is still mapped");
    assertFalse(mapped.contains(ok.toString()), "the loaded file is still mapped");
  }

  /**
   * Each parameter's metadata describes its moments' formats as docs/optimizers.md gives them: a
   * normalization, and a code book and block size only for formats that have them.
   */
  @Test
  void theParameterMetadataDescribesEachMomentsFormatAsDocumented() throws IOException {
    Path file = dir.resolve("described.safetensors");
    try (Optimizer opt = Optimizers.adamW4bit().minQuantizedSize(0)
        .override("f32", Precision.FP32).override("fact", Precision.FOUR_BIT_FACTORIZED).build()) {
      opt.register("w", new long[] {8, 40}, new float[320]);
      opt.register("f32", new long[] {8, 40}, new float[320]);
      opt.register("fact", new long[] {8, 40}, new float[320]);
      opt.save(file);
    }
    String m4 = "{\"normalization\":\"BLOCKWISE\",\"code_book\":\"de1-signed-4\","
        + "\"block_size\":128}";
    Map<String, String> expected = Map.of(
        "w", "{\"m\":" + m4 + ",\"v\":{\"normalization\":\"RANK1\",\"code_book\":\"linear-4\"}}",
        "f32", "{\"m\":{\"normalization\":\"FLOAT32\"},\"v\":{\"normalization\":\"FLOAT32\"}}",
        "fact", "{\"m\":" + m4 + ",\"v\":{\"normalization\":\"FACTORIZED\"}}");
    try (CheckpointReader in = CheckpointReader.open(file)) {
      for (Map.Entry<String, String> e : expected.entrySet()) {
        assertEquals(com.google.gson.JsonParser.parseString(e.getValue()),
            in.metadataObject("lowbit.param/" + e.getKey()).get("state"), e.getKey());
      }
      // The hyperparameters summarize the policy that chose those formats.
      assertEquals("[de1-signed-4/B128, linear-4/rank-1], float32 below 0 elements, 2 overrides",
          in.metadataObject("lowbit.hyperparameters").get("state_formats").getAsString());
    }
  }

  /** A tensor whose shape needs other than its segment's bytes is refused as it is added. */
  @Test
  void aTensorWhoseShapeDoesNotFitItsBytesIsRefusedWhenAdded() {
    CheckpointWriter out = new CheckpointWriter();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> out.addFloat32("k", new long[] {3}, java.lang.foreign.MemorySegment.ofArray(
            new float[2])));
    assertEquals("tensor 'k': shape needs 12 bytes, the segment has 8", e.getMessage());
  }

  @Test
  void wrongVersionIsRefused() throws IOException {
    byte[] good = goodFile();
    String header = new String(good, StandardCharsets.ISO_8859_1);
    int at = header.indexOf("\"lowbit.format_version\":\"1\"");
    byte[] bad = good.clone();
    bad[at + "\"lowbit.format_version\":\"".length()] = '2';
    try (Optimizer target = damagedTarget()) {
      assertRefused(target, bad, "unsupported format version '2'");
    }
  }

  @Test
  void mismatchedNamesShapesFormatsAndTypesAreRefused() throws IOException {
    byte[] good = goodFile();
    // A parameter registered under another name.
    try (Optimizer other = Optimizers.adamW4bit().minQuantizedSize(0).build()) {
      Map<String, float[]> p = params(5, SMALL);
      p.forEach((name, values) ->
          other.register(name.equals("b") ? "b2" : name, SMALL.get(name), values));
      assertRefused(other, good, "'b'");
    }
    // A parameter with another shape.
    try (Optimizer other = Optimizers.adamW4bit().minQuantizedSize(0).build()) {
      params(5, SMALL).forEach((name, values) -> other.register(name,
          name.equals("w") ? new long[] {40, 8} : SMALL.get(name), values));
      assertRefused(other, good, "shape");
    }
    // One parameter fewer.
    try (Optimizer other = Optimizers.adamW4bit().minQuantizedSize(0).build()) {
      params(5, SMALL).forEach((name, values) -> {
        if (!name.equals("gain")) {
          other.register(name, SMALL.get(name), values);
        }
      });
      assertRefused(other, good, "'gain'");
    }
    // Another state format.
    try (Optimizer other = Optimizers.adamW8bit().minQuantizedSize(0).build()) {
      register(other, params(5, SMALL));
      assertRefused(other, good, "state format");
    }
    // Another optimizer type.
    try (Optimizer other = Optimizers.sgdMomentum4bit().minQuantizedSize(0).build()) {
      register(other, params(5, SMALL));
      assertRefused(other, good, "lowbit.optimizer");
    }
  }

  @Test
  void checkpointParameterNamesListsTheSavedParametersInOrderAndChecksTheFile()
      throws IOException {
    Path file = dir.resolve("names.safetensors");
    try (Optimizer opt = Optimizers.adamW8bit().build()) {
      opt.register("z.last", new long[] {3}, new float[3]);
      opt.register("a.first", new long[] {2}, new float[2]);
      opt.save(file);
    }
    assertEquals(List.of("z.last", "a.first"), Optimizer.checkpointParameterNames(file));
    byte[] bytes = Files.readAllBytes(file);
    bytes[bytes.length - 1] ^= 1; // a tensor byte: its CRC no longer matches
    Files.write(file, bytes);
    CheckpointException e =
        assertThrows(CheckpointException.class, () -> Optimizer.checkpointParameterNames(file));
    assertTrue(e.getMessage().contains("CRC32C mismatch"), e.getMessage());
  }

  @Test
  void aSaveIntoAMissingDirectoryNamesTheTargetNotATemporaryFile() throws IOException {
    try (Optimizer opt = damagedTarget()) {
      Path target = dir.resolve("no-such-dir").resolve("state.safetensors");
      IOException e = assertThrows(IOException.class, () -> opt.save(target));
      assertEquals(
          "checkpoint " + target + ": cannot be written (java.nio.file.NoSuchFileException: "
              + target.getParent() + ": no such directory)",
          e.getMessage());
      assertTrue(!Files.exists(target.getParent()));
    }
  }

  /**
   * The root directory has no parent to hold the temporary file (this was a NullPointerException
   * naming no path); a null path is named as such.
   */
  @Test
  void aSaveToTheRootOrANullPathIsRefusedByName() throws IOException {
    try (Optimizer opt = damagedTarget()) {
      byte[] before = TestStates.snapshot(opt);
      Path root = dir.toAbsolutePath().getRoot();
      IOException e = assertThrows(IOException.class, () -> opt.save(root));
      assertEquals("checkpoint " + root + ": cannot be written (java.nio.file.FileSystemException: "
          + root + ": is a directory)", e.getMessage());
      assertEquals("path", assertThrows(NullPointerException.class, () -> opt.save(null))
          .getMessage());
      assertEquals("path", assertThrows(NullPointerException.class, () -> opt.load(null))
          .getMessage());
      assertEquals("path", assertThrows(NullPointerException.class,
          () -> Optimizer.checkpointParameterNames(null)).getMessage());
      assertArrayEquals(before, TestStates.snapshot(opt), "a refused call changed the optimizer");
    }
  }

  /**
   * A save whose header would be above what a load accepts (a parameter name of 20 million
   * characters: AdamW's header holds it six times) is refused before any file is touched. It used
   * to write a file that no load accepted, with a load error blaming the file's size.
   */
  @Test
  void aSaveWhoseHeaderNoLoadAcceptsIsRefusedAndTouchesNothing() throws IOException {
    byte[] good = goodFile();
    Path file = dir.resolve("keep.safetensors");
    Files.write(file, good);
    try (Optimizer opt = Optimizers.adamW32().build()) {
      opt.register("n".repeat(20_000_000), new long[] {1}, new float[1]);
      IOException e = assertThrows(IOException.class, () -> opt.save(file));
      assertTrue(e.getMessage().startsWith("checkpoint " + file + ": cannot be written ("
          + "java.io.IOException: its header would be "), e.getMessage());
      assertTrue(e.getMessage().endsWith(", above the " + CheckpointReader.MAX_HEADER
          + " a load accepts (very long or very many parameter names))"), e.getMessage());
    }
    assertArrayEquals(good, Files.readAllBytes(file));
    try (Stream<Path> files = Files.list(dir)) {
      assertTrue(files.noneMatch(f -> f.getFileName().toString().endsWith(".tmp")),
          "temporary files left behind");
    }
  }

  @Test
  void aSaveThatFailsAtTheRenameLeavesTheTargetAndNoTemporaryFile() throws IOException {
    byte[] good = goodFile();
    try (Optimizer opt = damagedTarget()) {
      // A non-empty directory at the target path: the temporary file is written and forced, then
      // the atomic rename over the target fails.
      Path blocked = dir.resolve("sub");
      Files.createDirectories(blocked);
      Files.write(blocked.resolve("x"), good);
      IOException e = assertThrows(IOException.class, () -> opt.save(blocked));
      assertTrue(e.getMessage().startsWith("checkpoint " + blocked + ": cannot be written ("),
          e.getMessage());
      assertArrayEquals(good, Files.readAllBytes(blocked.resolve("x")));
      try (Stream<Path> files = Files.list(dir)) {
        assertTrue(files.noneMatch(f -> f.getFileName().toString().endsWith(".tmp")),
            "temporary files left behind");
      }
      // A save over an existing file replaces it.
      Path file = dir.resolve("keep.safetensors");
      Files.write(file, good);
      opt.save(file);
      assertTrue(!Arrays.equals(good, Files.readAllBytes(file)));
    }
  }

  @Test
  void aSaveDeletesTemporariesOfDeadWritersButNotOfLiveOnesAndKeepsNameAndPermissions()
      throws IOException {
    byte[] good = goodFile();
    try (Optimizer opt = damagedTarget()) {
      // A writer killed mid-save leaves its temporary file, unlocked: its lock died with it.
      Path abandoned = dir.resolve(".lowbit-123.tmp");
      Files.write(abandoned, good);
      Path live = dir.resolve(".lowbit-456.tmp");
      Files.write(live, good);
      try (java.nio.channels.FileChannel ch =
              java.nio.channels.FileChannel.open(live, java.nio.file.StandardOpenOption.WRITE);
          java.nio.channels.FileLock held = ch.lock()) {
        // 252 characters: legal, and too long for a temporary name built from it.
        Path file = dir.resolve("x".repeat(240) + ".safetensors");
        Files.write(file, good);
        // Not a default for any usual umask (022: rw-r--r--, 077: rw-------, 002: rw-rw-r--), so
        // the temporary file must have taken them from the file it replaces.
        var readable = java.nio.file.attribute.PosixFilePermissions.fromString("rw-rw----");
        Files.setPosixFilePermissions(file, readable);
        opt.save(file);
        assertTrue(!Files.exists(abandoned), "the dead writer's temporary file is gone");
        assertTrue(Files.exists(live) && held.isValid(), "a live writer's file is left alone");
        assertEquals(readable, Files.getPosixFilePermissions(file));
        assertTrue(!Arrays.equals(good, Files.readAllBytes(file)), "the file was replaced");
      }
    }
  }

  @Test
  void aStepCountWhoseNextStepWouldWrapIsRefused() throws IOException {
    Path file = dir.resolve("wrap.safetensors");
    try (Optimizer opt = Optimizers.adamW32().build()) {
      opt.register("w", new long[] {4}, new float[4]);
      opt.step("w", new float[] {1, 1, 1, 1});
      opt.save(file);
      String stepOne = "\\\"step\\\":1,";
      CheckpointEdits.editHeader(file, h -> {
        assertTrue(h.contains(stepOne), h);
        return h.replace(stepOne, "\\\"step\\\":" + Long.MAX_VALUE + ",");
      });
      CheckpointException e = assertThrows(CheckpointException.class, () -> opt.load(file));
      assertTrue(e.getMessage().contains("not a count"), e.getMessage());
      assertEquals(1, opt.stepCount("w"));
    }
  }

  /**
   * safetensors does not order a header's entries: a header listing its tensors in another order
   * than their data offsets (as a JSON map may) loads, and gives the same state.
   */
  @Test
  void aHeaderListingTensorsOutOfOffsetOrderLoads() throws IOException {
    Path file = dir.resolve("reordered.safetensors");
    Map<String, float[]> p = params(4, SMALL);
    byte[] expected;
    try (Optimizer opt = Optimizers.adamW8bit().minQuantizedSize(0).build()) {
      register(opt, p);
      step(opt, 1);
      opt.save(file);
      expected = TestStates.snapshot(opt);
    }
    java.util.List<String> order = new java.util.ArrayList<>();
    CheckpointEdits.editHeader(file, h -> {
      com.google.gson.JsonObject root = com.google.gson.JsonParser.parseString(h).getAsJsonObject();
      java.util.List<String> keys = new java.util.ArrayList<>(root.keySet());
      keys.remove("__metadata__");
      keys.sort(java.util.Comparator.comparingLong(
          (String k) -> root.getAsJsonObject(k).getAsJsonArray("data_offsets").get(0).getAsLong())
          .reversed());
      com.google.gson.JsonObject reordered = new com.google.gson.JsonObject();
      for (String k : keys) {
        reordered.add(k, root.get(k));
      }
      reordered.add("__metadata__", root.get("__metadata__"));
      order.addAll(keys);
      return new com.google.gson.GsonBuilder().disableHtmlEscaping().create().toJson(reordered);
    });
    assertTrue(order.size() > 2, "tensors: " + order);
    try (Optimizer opt = Optimizers.adamW8bit().minQuantizedSize(0).build()) {
      register(opt, params(5, SMALL));
      opt.load(file);
      assertArrayEquals(expected, TestStates.snapshot(opt));
      assertEquals(1, opt.stepCount("w"));
    }
  }

  /**
   * The header must be strict JSON (CheckpointReader's javadoc): a lenient construct, here an
   * unquoted member name, is refused even with a valid CRC.
   */
  @Test
  void aHeaderThatIsOnlyLenientJsonIsRefused() throws IOException {
    byte[] good = goodFile();
    Path file = dir.resolve("lenient.safetensors");
    Files.write(file, good);
    CheckpointEdits.editHeader(file, h -> {
      assertTrue(h.contains("\"dtype\":"), h);
      return h.replaceFirst("\"dtype\":", "dtype:");
    });
    try (Optimizer target = damagedTarget()) {
      assertRefused(target, Files.readAllBytes(file), "not valid JSON");
    }
  }

  /**
   * An optimizer with no parameters writes a checkpoint that is all header (no data section);
   * it loads into another such optimizer.
   */
  @Test
  void aCheckpointWithNoTensorsLoads() throws IOException {
    Path file = dir.resolve("empty.safetensors");
    try (Optimizer opt = Optimizers.adamW8bit().build()) {
      opt.save(file);
    }
    byte[] bytes = Files.readAllBytes(file);
    long headerLength = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    assertEquals(bytes.length - 8, headerLength, "no data section");
    try (Optimizer opt = Optimizers.adamW8bit().build()) {
      opt.load(file);
      assertEquals(0, opt.stateBytes());
    }
  }

  /**
   * The reader's accessors: hasTensor, and readFloat32 of a tensor that does not start the data
   * section (Adam's v after one step from 0 is (1 - beta2) g^2, with 1 - beta2 computed once in
   * float as AdamScalars says), refusing a target of the wrong
   * size with an IllegalArgumentException (a caller bug, not a damaged file).
   */
  @Test
  void theReaderFindsTensorsByKeyAndChecksTheTargetSize() throws IOException {
    Path file = dir.resolve("reader.safetensors");
    saveAdamW32AfterOneStep(file);
    try (CheckpointReader in = CheckpointReader.open(file)) {
      assertTrue(in.hasTensor("w/m") && in.hasTensor("w/v"));
      assertTrue(!in.hasTensor("w/x") && !in.hasTensor("w"));
      java.lang.foreign.MemorySegment v = java.lang.foreign.MemorySegment.ofArray(new float[4]);
      in.readFloat32("w/v", new long[] {4}, v);
      float c = 1f - 0.999f;
      float[] expected = {c * 1f, c * 4f, c * 9f, c * 16f};
      assertArrayEquals(expected, v.toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT), 0f);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> in.readFloat32(
              "w/v", new long[] {4}, java.lang.foreign.MemorySegment.ofArray(new float[5])));
      assertTrue(e.getMessage().contains("has 20 bytes, the tensor 16"), e.getMessage());
    }
  }

  /** Closing a reader unmaps the file: its tensors can no longer be read. */
  @Test
  void aClosedReaderNoLongerReads() throws IOException {
    Path file = dir.resolve("closed.safetensors");
    saveAdamW32AfterOneStep(file);
    java.lang.foreign.MemorySegment target = java.lang.foreign.MemorySegment.ofArray(new float[4]);
    CheckpointReader in = CheckpointReader.open(file);
    in.readFloat32("w/m", new long[] {4}, target);
    // m after one step from 0 is (1 - beta1) * g = 0.1 g
    assertArrayEquals(new float[] {0.1f, 0.2f, 0.3f, 0.4f},
        target.toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT), 1e-7f);
    in.close();
    assertThrows(IllegalStateException.class, () -> in.readFloat32("w/m", new long[] {4}, target));
  }

  /**
   * docs/optimizers.md: 'lowbit.hyperparameters' records the learning rate (or which schedule),
   * the betas, epsilon and weight decay, for the reader of the file (a load does not need them).
   */
  @Test
  void theHyperparametersAreRecorded() throws IOException {
    Path file = dir.resolve("hyper.safetensors");
    try (Optimizer opt = Optimizers.adamW().learningRate(2e-3f).betas(0.8f, 0.99f)
        .weightDecay(0.05f).build()) {
      opt.save(file);
    }
    try (CheckpointReader in = CheckpointReader.open(file)) {
      com.google.gson.JsonObject h = in.metadataObject("lowbit.hyperparameters");
      assertEquals(2e-3f, h.get("learning_rate").getAsFloat());
      assertEquals(0.8f, h.get("beta1").getAsFloat());
      assertEquals(0.99f, h.get("beta2").getAsFloat());
      assertEquals(1e-8f, h.get("epsilon").getAsFloat());
      assertEquals(0.05f, h.get("weight_decay").getAsFloat());
      String formats = h.get("state_formats").getAsString();
      assertTrue(formats.endsWith(", float32 below 4096 elements, 0 overrides"), formats);
    }
    try (Optimizer opt = Optimizers.adamW().override("w", Precision.FP32).build()) {
      opt.save(file);
    }
    try (CheckpointReader in = CheckpointReader.open(file)) {
      String formats = in.metadataObject("lowbit.hyperparameters").get("state_formats")
          .getAsString();
      assertTrue(formats.endsWith(" elements, 1 override"), formats);
    }
    try (Optimizer opt = Optimizers.adamW().learningRate(t -> 1e-3f / t).build()) {
      opt.save(file);
    }
    try (CheckpointReader in = CheckpointReader.open(file)) {
      String lr = in.metadataObject("lowbit.hyperparameters").get("learning_rate").getAsString();
      assertTrue(lr.startsWith("schedule "), lr);
    }
    try (Optimizer opt = Optimizers.adamW().learningRate(new InverseStep()).build()) {
      opt.save(file);
    }
    try (CheckpointReader in = CheckpointReader.open(file)) {
      String lr = in.metadataObject("lowbit.hyperparameters").get("learning_rate").getAsString();
      assertEquals("schedule 1e-3 / t", lr);
    }
  }

  /** A schedule that says what it is. */
  private static final class InverseStep implements LearningRateSchedule {
    @Override
    public float at(long step) {
      return 1e-3f / step;
    }

    @Override
    public String toString() {
      return "1e-3 / t";
    }
  }

  /**
   * A code beyond a short book's table (dynamic0-unsigned-8, the 8-bit second moment, has 255
   * entries; de0-unsigned-4 has 15) cannot come from a quantizer: a checkpoint holding one, with
   * valid CRCs, is refused at load rather than decoded past the table in a later step.
   */
  @Test
  void aCodeOutsideAShortBooksTableIsRefusedAtLoad() throws IOException {
    Path file = dir.resolve("codes.safetensors");
    java.util.function.Supplier<Optimizer> eightBit =
        () -> Optimizers.adamW8bit().minQuantizedSize(0).build();
    java.util.function.Supplier<Optimizer> de0 = () -> Optimizers.adamW()
        .stateFormats(Precision.FOUR_BIT.firstMoment(),
            StateFormat.blockwise(dev.lowbit.quant.CodeBook.DE0_UNSIGNED_4, 128))
        .minQuantizedSize(0).build();
    // 8 bits: the byte is the code; 255 is one past the last entry (254).
    // 4 bits: 15 in the low nibble (element 6) or in the high nibble (element 7).
    Object[][] cases = {{eightBit, 3, 0xFF, "dynamic0-unsigned-8"},
        {de0, 3, 0x0F, "de0-unsigned-4"}, {de0, 3, 0xF0, "de0-unsigned-4"}};
    for (Object[] c : cases) {
      @SuppressWarnings("unchecked")
      java.util.function.Supplier<Optimizer> make = (java.util.function.Supplier<Optimizer>) c[0];
      try (Optimizer opt = make.get()) {
        register(opt, params(6, SMALL));
        step(opt, 1);
        opt.save(file);
      }
      CheckpointEdits.overwriteByte(file, "w/v.codes", (Integer) c[1], (Integer) c[2]);
      try (Optimizer target = make.get()) {
        register(target, params(7, SMALL));
        step(target, 2);
        assertRefused(target, Files.readAllBytes(file),
            "tensor 'w/v.codes': byte " + c[1] + " holds a code outside the " + c[3] + " table");
      }
    }
  }

  /**
   * docs/optimizers.md: 'lowbit.optimizer' is "adam", "adamw" or "sgd"; a load checks it, so a
   * checkpoint of one kind is refused by another naming both. SGD records its hyperparameters too.
   */
  @Test
  void theOptimizerKindIsRecordedAndChecked() throws IOException {
    Path file = dir.resolve("kind.safetensors");
    // Default learning rates: 1e-3 for Adam and AdamW, 0.01 for SGD (the builders' javadoc).
    Object[][] kinds = {
        {(java.util.function.Supplier<Optimizer>) () -> Optimizers.adamW().build(), "adamw", 1e-3f},
        {(java.util.function.Supplier<Optimizer>) () -> Optimizers.adam().build(), "adam", 1e-3f},
        {(java.util.function.Supplier<Optimizer>) () -> Optimizers.sgd().momentum(0.8f).build(),
            "sgd", 0.01f}};
    for (int i = 0; i < kinds.length; i++) {
      @SuppressWarnings("unchecked")
      java.util.function.Supplier<Optimizer> make =
          (java.util.function.Supplier<Optimizer>) kinds[i][0];
      try (Optimizer opt = make.get()) {
        opt.save(file);
      }
      try (CheckpointReader in = CheckpointReader.open(file)) {
        assertEquals(kinds[i][1], in.metadata("lowbit.optimizer"));
        com.google.gson.JsonObject h = in.metadataObject("lowbit.hyperparameters");
        assertEquals((float) kinds[i][2], h.get("learning_rate").getAsFloat());
        if (kinds[i][1].equals("sgd")) {
          assertEquals(0.8f, h.get("momentum").getAsFloat());
        }
      }
      @SuppressWarnings("unchecked")
      java.util.function.Supplier<Optimizer> other =
          (java.util.function.Supplier<Optimizer>) kinds[(i + 1) % kinds.length][0];
      try (Optimizer target = other.get()) {
        assertRefused(target, Files.readAllBytes(file), "written by a '" + kinds[i][1]
            + "' optimizer, this one is '" + kinds[(i + 1) % kinds.length][1] + "'");
      }
    }
  }

  /** A float32 state tensor holding NaN, even as its very first element, is refused at load. */
  @Test
  void aNonFiniteFloat32StateIsRefusedAtLoad() throws IOException {
    Path file = dir.resolve("nan.safetensors");
    for (int element : new int[] {0, 3}) {
      saveAdamW32AfterOneStep(file);
      CheckpointEdits.overwriteFloat(file, "w/m", element, Float.NaN);
      try (Optimizer target = Optimizers.adamW32().build()) {
        target.register("w", new long[] {4}, new float[4]);
        assertRefused(target, Files.readAllBytes(file), "tensor 'w/m': element " + element
            + " is not finite");
      }
    }
  }

  /**
   * A float state that the optimizer only ever makes non-negative (Adam's v, every block scale,
   * rank-1 maximum and factorized statistic) but that a file holds negative, with valid CRCs, is
   * refused naming the tensor: loaded, it would give the square root of a negative v, NaN in
   * every weight it touches. A negative first moment is legal and loads.
   */
  @Test
  void aNegativeSecondMomentOrScaleIsRefusedAndANegativeFirstMomentLoads() throws IOException {
    Map<String, Supplier<OptimizerBuilder<?>>> presets = new LinkedHashMap<>();
    presets.put("w/v", Optimizers::adamW32);
    presets.put("w/v.scales", Optimizers::adamW8bit);
    presets.put("w/m.scales", Optimizers::adamW8bit);
    presets.put("w/v.scales.1", Optimizers::adamW4bit);
    presets.put("w/v.cols", Optimizers::adamW4bitFactorized);
    presets.put("w/momentum.scales", Optimizers::sgdMomentum8bit);
    for (Map.Entry<String, Supplier<OptimizerBuilder<?>>> e : presets.entrySet()) {
      Path file = dir.resolve("negative.safetensors");
      try (Optimizer opt = e.getValue().get().minQuantizedSize(0).build()) {
        opt.register("w", new long[] {4, 256}, new float[1024]);
        float[] grad = new float[1024];
        Arrays.fill(grad, 0.5f);
        opt.step("w", grad);
        opt.save(file);
        opt.load(file); // the untouched file loads
        CheckpointEdits.overwriteFloat(file, e.getKey(), 1, -0.25f);
        byte[] before = TestStates.snapshot(opt);
        CheckpointException refused =
            assertThrows(CheckpointException.class, () -> opt.load(file), e.getKey());
        assertTrue(refused.getMessage().contains("'" + e.getKey() + "'")
            && refused.getMessage().contains("element 1 is negative"), refused.getMessage());
        assertArrayEquals(before, TestStates.snapshot(opt), "a failed load changed the optimizer");
      }
    }
    Path file = dir.resolve("negative-m.safetensors");
    try (Optimizer opt = Optimizers.adamW32().build()) {
      opt.register("w", new long[] {4}, new float[4]);
      opt.step("w", new float[] {1, 1, 1, 1});
      opt.save(file);
      CheckpointEdits.overwriteFloat(file, "w/m", 1, -0.25f);
      opt.load(file);
      assertEquals(-0.25f, TestStates.dequantize(opt, "w", 0)[1]);
    }
  }
}
