package dev.lowbit.bench.memory;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Shape files for {@code lowbit memory}: names, shapes and repeats, and every error naming the file
 * and line.
 */
class ShapeFileTest {

  @TempDir Path dir;

  private Path file(String text) throws IOException {
    Path f = dir.resolve("my-model.shapes");
    Files.writeString(f, text);
    return f;
  }

  private String error(String text) throws IOException {
    Path f = file(text);
    String message = assertThrows(ShapeFileException.class, () -> ShapeFile.read(f)).getMessage();
    assertTrue(message.startsWith(f.toString()), message);
    return message;
  }

  @Test
  void readsNamesShapesAndRepeats() throws IOException {
    ModelShapes model =
        ShapeFile.read(
            file(
                "# My model, from its paper\n# Format: ignored\n\nembed 1000x64  # vocabulary\n"
                    + "layer.*.w 64x64 3\nhead.bias 10\n"));
    assertEquals("my-model", model.name());
    assertEquals("My model, from its paper", model.source());
    assertEquals(5, model.tensors().size());
    assertEquals("layer.2.w", model.tensors().get(3).name());
    assertArrayEquals(new long[] {64, 64}, model.tensors().get(3).dims());
    assertEquals(1000 * 64 + 3 * 64 * 64 + 10, model.parameters());
  }

  @Test
  void errorsNameTheFileAndLine() throws IOException {
    assertTrue(error("a 10x10\nb 10xten\n").contains(":2: shape '10xten': size 2"));
    assertTrue(error("a 10x0\n").contains(":1: shape '10x0': size 2 must be positive"));
    assertTrue(error("\n\njust-a-name\n").contains(":3: expected 'NAME SHAPE [COUNT]'"));
    assertTrue(error("a 4 x 4\n").contains(":1: expected"));
    assertTrue(error("a 10\nb 5 0\n").contains(":2: COUNT '0' must be a positive"));
    assertTrue(error("a 10\na 5\n").contains(":2: tensor name 'a' appears twice"));
    assertTrue(error("a 10 3\n").contains("use '*'"));
    assertTrue(error("# only a comment\n").contains("no tensors"));
    assertTrue(error("a 9999999999x9999999999\n").contains("too large"));
  }

  @Test
  void overflowingSumsAndHugeCountsAreRefusedNamingTheLine() throws IOException {
    // 2^62 elements fit a long; 8 bytes of AdamW state each do not.
    String message = error("a 10\nb 2147483648x2147483648\n");
    assertTrue(
        message.contains(":2: '2147483648x2147483648' is too large: the model's adamw32 state"
            + " bytes would exceed 9223372036854775807"),
        message);
    // 10^15 x 10^4 parameters exceed a long (they wrapped to a negative count, under any
    // --measure-limit).
    message = error("h.*.w 1000000000000000 10000\n");
    assertTrue(message.contains(":1: '1000000000000000 x 10000' is too large: the model's"
        + " parameters would exceed"), message);
    // A huge COUNT is refused before any tensor is made.
    message = error("a 10\nh.*.w 10 2000000000\n");
    assertTrue(message.contains(":2: COUNT 2000000000 would make more than 100000 tensors"),
        message);
  }

  @Test
  void missingFileIsNamed() {
    Path missing = dir.resolve("none.shapes");
    ShapeFileException e =
        assertThrows(ShapeFileException.class, () -> ShapeFile.read(missing));
    assertEquals(missing + ": file not found", e.getMessage());
  }

  @Test
  void builtInModelsHaveTheirPublishedParameterCounts() throws IOException {
    Map<String, Long> published =
        Map.of(
            "ResNet-50", 25_557_032L,
            "ViT-B/16", 86_567_656L,
            "GPT-2 124M", 124_439_808L,
            "GPT-2 355M", 354_823_168L,
            "LLaMA-7B", 6_738_415_616L);
    List<ModelShapes> models = BuiltInModels.all();
    assertEquals(published.size(), models.size());
    for (ModelShapes model : models) {
      assertEquals(published.get(model.name()), model.parameters(), model.name());
      assertTrue(model.source().length() > 40, model.name() + " names no source");
    }
  }

  @Test
  void aNameIsRepeatedWithItsIndexOnlyWhenCountIsAboveOne() throws IOException {
    ModelShapes model = ShapeFile.read(file("layer.* 10\nhead 5 1\n"));
    assertEquals(
        List.of("layer.*", "head"), model.tensors().stream().map(TensorShape::name).toList());
    // A duplicate from a line without COUNT gets no hint about '*'.
    assertTrue(error("a 10\na 5 1\n").endsWith(":2: tensor name 'a' appears twice"));
  }

  @Test
  void exactlyTheMostTensorsAreAllowed() throws IOException {
    ModelShapes model = ShapeFile.read(file("a 10\nh.*.w 1 99999\n"));
    assertEquals(100_000, model.tensors().size());
    String message = error("a 10\nb 10\nc 10\nh.*.w 1 99999\n");
    assertTrue(message.contains(":4: COUNT 99999 would make more than 100000 tensors"), message);
  }

  @Test
  void aFileNamedOnlyByItsExtensionKeepsItsWholeName() throws IOException {
    Path f = dir.resolve(".shapes");
    Files.writeString(f, "a 10\n");
    assertEquals(".shapes", ShapeFile.read(f).name());
    Path plain = dir.resolve("plain");
    Files.writeString(plain, "a 10\n");
    assertEquals("plain", ShapeFile.read(plain).name());
  }
}
