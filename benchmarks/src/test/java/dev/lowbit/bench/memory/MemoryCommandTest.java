package dev.lowbit.bench.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.lowbit.bench.CliRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs {@code lowbit memory} in process on a one-layer shape file (1024 x 1024 weights and 1024
 * biases: 1,049,600 parameters) and checks the numbers it prints.
 */
class MemoryCommandTest {

  private static final long PARAMETERS = 1024 * 1024 + 1024;

  @TempDir Path dir;

  private Path shapes;

  @BeforeEach
  void writeShapeFile() throws IOException {
    shapes = dir.resolve("one-layer.shapes");
    Files.writeString(shapes, "# One dense layer\nfc.weight 1024x1024\nfc.bias 1024\n");
  }

  @Test
  void computedOnlyTableShowsMibBytesPerParameterAndTheRatioToAdamW32() {
    CliRun run = CliRun.of("memory", "--shapes", shapes.toString(), "--measure-limit", "0");
    assertEquals(0, run.status(), run.err());
    List<String> lines = run.out().lines().toList();
    assertEquals(
        "one-layer: 1,049,600 parameters in 2 tensors (computed only: over --measure-limit 0)",
        lines.get(0));
    assertEquals("  One dense layer", lines.get(1));
    assertEquals(
        "  optimizer                computed MiB   measured MiB    diff % bytes/param vs adamw32",
        lines.get(2));
    // 8 bytes per parameter: 8,396,800 bytes = 8.008 MiB.
    assertEquals(
        "  adamw32                           8.0              -         -       8.000      1.00x",
        lines.get(3));
    // The weight: 2 (n + 4 n / 256) bytes; the bias, under 4096 elements, float32 m and v.
    long eightBit = 2 * (1024 * 1024 + 4 * 1024 * 1024 / 256) + 8 * 1024;
    assertEquals(
        String.format(
            java.util.Locale.ROOT,
            "  adamw8bit                         2.0              -         -       %.3f"
                + "      0.25x",
            (double) eightBit / PARAMETERS),
        lines.get(4));
    assertTrue(run.out().contains("\n  shampoo4bit "), run.out());
    assertTrue(
        run.out().endsWith(
            "Tensors under 4096 elements keep float32 state. MiB = 2^20 bytes.\n"), run.out());
    assertTrue(run.out().contains("\ncomputed: exact per-tensor formulas"), run.out());
    assertTrue(run.out().contains("\nShampoo (over float32 AdamW) is measured only"), run.out());
  }

  @Test
  void aModelOfExactlyTheLimitIsMeasured() {
    CliRun run =
        CliRun.of("memory", "--shapes", shapes.toString(), "--measure-limit", "" + PARAMETERS);
    assertEquals(0, run.status(), run.err());
    assertTrue(run.out().startsWith("one-layer: 1,049,600 parameters in 2 tensors\n"), run.out());
    // float32 AdamW measures exactly what its formula says.
    assertTrue(
        run.out().contains(
            "\n  adamw32                           8.0            8.0    +0.000       8.000"
                + "      1.00x\n"),
        run.out());
    run = CliRun.of(
        "memory", "--shapes", shapes.toString(), "--measure-limit", "" + (PARAMETERS - 1));
    assertTrue(run.out().startsWith("one-layer: 1,049,600 parameters in 2 tensors (computed only"),
        run.out());
  }

  @Test
  void jsonHasExactByteCountsAndNullsWhereNotMeasured() {
    CliRun run =
        CliRun.of("memory", "--shapes", shapes.toString(), "--measure-limit", "0", "--json");
    assertEquals(0, run.status(), run.err());
    JsonObject root = JsonParser.parseString(run.out()).getAsJsonObject();
    assertEquals(0, root.get("measureLimit").getAsLong());
    JsonArray models = root.getAsJsonArray("models");
    assertEquals(1, models.size());
    JsonObject model = models.get(0).getAsJsonObject();
    assertEquals("one-layer", model.get("model").getAsString());
    assertEquals("One dense layer", model.get("source").getAsString());
    assertEquals(PARAMETERS, model.get("parameters").getAsLong());
    assertEquals(2, model.get("tensors").getAsInt());
    JsonArray rows = model.getAsJsonArray("rows");
    assertEquals(StateFormula.all().size(), rows.size());
    JsonObject adamw32 = rows.get(0).getAsJsonObject();
    assertEquals("adamw32", adamw32.get("optimizer").getAsString());
    assertEquals(8 * PARAMETERS, adamw32.get("computedBytes").getAsLong());
    assertTrue(adamw32.get("measuredBytes").isJsonNull());
    assertTrue(adamw32.get("differencePercent").isJsonNull());
    assertEquals(8.0, adamw32.get("bytesPerParameter").getAsDouble());
    assertEquals(
        "shampoo4bit", rows.get(rows.size() - 1).getAsJsonObject().get("optimizer").getAsString());
  }

  @Test
  void theBuiltInModelsAreReportedWithoutShapeFiles() throws IOException {
    CliRun run = CliRun.of("memory", "--measure-limit", "0", "--json");
    assertEquals(0, run.status(), run.err());
    JsonArray models = JsonParser.parseString(run.out()).getAsJsonObject().getAsJsonArray("models");
    assertEquals(BuiltInModels.all().size(), models.size());
    assertEquals("ResNet-50", models.get(0).getAsJsonObject().get("model").getAsString());
    // Gson escapes '\'' and '=' by default (for HTML pages): readable JSON keeps them.
    assertTrue(run.out().contains("torchvision's 'resnet50'"), run.out());
  }

  @Test
  void aShapeFileThatIsNotUtf8IsNamedAsSuch() throws IOException {
    // 0xff is never UTF-8: was "cannot be read: Input length = 1" (the decoder's message)
    Path latin1 = dir.resolve("latin1.shapes");
    Files.write(latin1, new byte[] {'w', (byte) 0xff, ' ', '4', '\n'});
    CliRun run = CliRun.of("memory", "--shapes", latin1.toString());
    assertEquals(2, run.status());
    assertEquals("lowbit memory: error: " + latin1 + ": is not UTF-8 text\n", run.err());
    assertEquals("", run.out());
  }

  @Test
  void anUnreadableShapeFileIsNamedWithTheReason() throws IOException {
    // The reason was the path again: "FILE: cannot be read: FILE"
    Path file = dev.lowbit.bench.Unreadable.file(dir);
    CliRun run = CliRun.of("memory", "--shapes", file.toString());
    assertEquals(2, run.status());
    assertEquals(
        "lowbit memory: error: " + file + ": cannot be read: permission denied\n", run.err());
    assertEquals("", run.out());
  }

  @Test
  void aMissingShapeFileIsNamed() {
    Path missing = dir.resolve("none.shapes");
    CliRun run = CliRun.of("memory", "--shapes", missing.toString());
    assertEquals(2, run.status());
    assertEquals("lowbit memory: error: " + missing + ": file not found\n", run.err());
    assertEquals("", run.out());
  }
}
