package dev.lowbit.bench.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.lowbit.bench.CliRun;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs {@code lowbit compare} in process on the embedded sample (5,000 training images, one
 * epoch) with two optimizers, and checks the output's structure and that training worked.
 */
class CompareCommandTest {

  @TempDir Path dir;

  private static CliRun run(String... args) {
    return CliRun.of(args);
  }

  /** DJL's own Adam and LowBit's 4-bit AdamW through the DJL adapter. */
  private static List<String> twoOptimizers() {
    return List.of("djl-adam", "adamw4bit");
  }

  @Test
  void jsonReportHasOneRowPerOptimizerAndAccuracyFarAboveChance() throws IOException {
    List<String> names = twoOptimizers();
    Path chart = dir.resolve("sub/chart.png");
    CliRun run =
        run(
            "compare",
            "--sample",
            "--train-limit",
            "0",
            "--epochs",
            "1",
            "--optimizers",
            String.join(",", names),
            "--json",
            "--chart",
            chart.toString());
    assertEquals(0, run.status(), run.err());

    JsonObject report = JsonParser.parseString(run.out()).getAsJsonObject();
    JsonObject settings = report.getAsJsonObject("settings");
    assertEquals(5000, settings.get("trainImages").getAsInt());
    assertEquals(1000, settings.get("testImages").getAsInt());
    assertEquals(1, settings.get("epochs").getAsInt());
    assertTrue(settings.get("data").getAsString().contains("embedded"));
    long parameters = settings.get("parameters").getAsLong();
    assertEquals(784L * 1024 + 1024 + 1024 * 1024 + 1024 + 1024 * 10 + 10, parameters);

    JsonArray rows = report.getAsJsonArray("optimizers");
    assertEquals(names.size(), rows.size());
    for (int i = 0; i < rows.size(); i++) {
      JsonObject row = rows.get(i).getAsJsonObject();
      String name = row.get("optimizer").getAsString();
      assertEquals(names.get(i), name);
      double accuracy = row.get("testAccuracyMean").getAsDouble();
      assertTrue(accuracy > 65, name + ": test accuracy " + accuracy + "% is too close to chance");
      assertTrue(accuracy <= 100, name + ": accuracy " + accuracy);
      double loss = row.get("finalTrainLossMean").getAsDouble();
      assertTrue(loss > 0 && loss < 1.5, name + ": final training loss " + loss);
      long stateBytes = row.get("stateBytes").getAsLong();
      assertTrue(stateBytes > 0, name + ": no optimizer state measured");
      assertEquals(
          (double) stateBytes / parameters, row.get("bytesPerParameter").getAsDouble(), 1e-9);
      double step = row.get("medianStepMillis").getAsDouble();
      double update = row.get("medianUpdateMillis").getAsDouble();
      // Each step's update is part of that step, so its median is no larger. (A step time from
      // a sum of two System.nanoTime() readings would be at least twice the machine's uptime.)
      assertTrue(step > 0 && step < 3_600_000, name + ": median step " + step + " ms");
      assertTrue(update > 0 && update <= step, name + ": median update " + update + " ms");
      assertEquals(1, row.getAsJsonArray("testAccuracyPerEpoch").size());
    }
    // DJL's Adam keeps float32 m and v: exactly 8 bytes per parameter; 4-bit AdamW about 1.05
    // (docs/algorithms.md section 3: 1.03 ideal, plus float32 state for the biases).
    assertEquals(8.0, rows.get(0).getAsJsonObject().get("bytesPerParameter").getAsDouble());
    double fourBit = rows.get(1).getAsJsonObject().get("bytesPerParameter").getAsDouble();
    assertTrue(fourBit > 1.0 && fourBit < 1.1, "adamw4bit bytes/param " + fourBit);

    // In JSON mode the announcements go to standard error, the chart's path last.
    assertTrue(run.err().startsWith("Data: "), run.err());
    assertTrue(run.err().endsWith("Chart: " + chart.toAbsolutePath() + "\n"), run.err());
    BufferedImage image = ImageIO.read(chart.toFile());
    assertEquals(1280, image.getWidth());
    assertEquals(480, image.getHeight());
  }

  @Test
  void tableHasTheDocumentedColumns() {
    CliRun run =
        run(
            "compare",
            "--sample",
            "--train-limit",
            "512",
            "--test-limit",
            "200",
            "--batch-size",
            "64",
            "--optimizers",
            "djl-adam",
            "--no-chart");
    assertEquals(0, run.status(), run.err());
    List<String> lines = run.out().lines().toList();
    int header = -1;
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).startsWith("optimizer ")) {
        header = i;
      }
    }
    assertTrue(header >= 0, run.out());
    assertEquals("", lines.get(header - 1), "a blank line before the table");
    for (String column : CompareReport.COLUMNS) {
      assertTrue(lines.get(header).contains(column), "missing column " + column);
    }
    assertTrue(lines.get(header + 1).matches("-+"), lines.get(header + 1));
    String row = lines.get(header + 2);
    assertTrue(row.startsWith("djl-adam "), row);
    assertTrue(row.contains(" +- "), row);
    assertTrue(run.out().contains("using 512 training and 200 test images"), run.out());
    assertEquals(lines.get(header).length(), lines.get(header + 1).length(), "rule under header");
    assertEquals("", lines.get(header + 3));
    assertEquals(
        "Test accuracy: mean +- sample standard deviation over 1 seed(s), after the last epoch."
            + " Times: median per step; 'update' is Trainer.step() alone.",
        lines.get(header + 4));
    assertEquals("State bytes: djl-adam: bytes of its m and v NDArrays.", lines.get(header + 5));
    assertEquals("Learning rates: djl-adam=0.001", lines.get(header + 6));
    assertEquals(header + 7, lines.size(), run.out());
  }

  @Test
  void aRunTooShortForShampooGetsItsNoteAndTheStateSourcesAreGrouped() {
    CliRun run =
        run("compare", "--sample", "--train-limit", "256", "--test-limit", "100",
            "--batch-size", "64", "--epochs", "2", "--optimizers", "adamw32,shampoo32,adamw8bit",
            "--lr", "0.002", "--no-chart");
    assertEquals(0, run.status(), run.err());
    assertTrue(
        run.out().contains(
            "\nNote: shampoo32: does nothing of its own before step 500 and this run has 8 steps,"),
        run.out());
    assertTrue(run.out().contains(" --epochs 126 or more shows it.\n"), run.out());
    assertTrue(
        run.out().contains(
            "\nLearning rates: adamw32=0.002, shampoo32=0.002, adamw8bit=0.002\n"),
        run.out());
    // Shampoo's state: its base AdamW's m and v plus the preconditioners, so more than AdamW's.
    assertTrue(stateBytes(run.out(), "shampoo32") > stateBytes(run.out(), "adamw32"), run.out());
    String sources =
        run.out().lines().filter(l -> l.startsWith("State bytes: ")).findFirst().orElseThrow();
    // One group per way of measuring, in first-seen order, each listing its optimizers.
    assertTrue(sources.startsWith("State bytes: adamw32, adamw8bit: "), sources);
    assertTrue(sources.contains("; shampoo32: "), sources);
    assertTrue(sources.endsWith("."), sources);
  }

  @Test
  void firstSeedShiftsTheSeedsAndIsChecked() {
    CliRun run =
        run(
            "compare", "--sample", "--train-limit", "256", "--test-limit", "100",
            "--batch-size", "64", "--optimizers", "adamw32", "--seeds", "2", "--first-seed", "3",
            "--json", "--no-chart");
    assertEquals(0, run.status(), run.err());
    JsonObject settings = JsonParser.parseString(run.out()).getAsJsonObject()
        .getAsJsonObject("settings");
    assertEquals("[3,4]", settings.get("seeds").toString());

    CliRun bad = run("compare", "--sample", "--first-seed", "0", "--no-chart");
    assertEquals(2, bad.status());
    assertTrue(bad.err().contains("--first-seed must be at least 1"), bad.err());
  }

  @Test
  void unknownOptimizerIsNamed() {
    CliRun run = run("compare", "--sample", "--optimizers", "djl-adam,adamw3bit", "--no-chart");
    assertEquals(2, run.status());
    assertTrue(run.err().contains("unknown optimizer 'adamw3bit'"), run.err());
    assertTrue(run.err().contains("djl-adam"), run.err());
  }

  @Test
  void anOptimizerListWithNoNamesIsRefused() {
    // ",," splits into no names at all: was a NoSuchElementException with a stack trace, exit 1
    for (String list : new String[] {",,", ","}) {
      CliRun run = run("compare", "--sample", "--optimizers", list, "--no-chart");
      assertEquals(2, run.status(), run.err());
      assertTrue(
          run.err().startsWith(
              "lowbit compare: error: --optimizers: no optimizer named; available: djl-adam, "),
          run.err());
      assertEquals(1, run.err().lines().count(), run.err());
      assertEquals("", run.out());
    }
  }

  @Test
  void unwritableChartIsRefusedBeforeTraining() throws IOException {
    // A directory, and a path under a regular file: refused at once (no training: no table).
    CliRun run = run("compare", "--sample", "--chart", dir.toString());
    assertEquals(2, run.status(), run.err());
    assertEquals("lowbit compare: error: --chart " + dir + ": is a directory\n", run.err());
    assertEquals("", run.out());
    java.nio.file.Files.writeString(dir.resolve("file"), "x");
    Path under = dir.resolve("file/chart.png");
    run = run("compare", "--sample", "--chart", under.toString());
    assertEquals(2, run.status(), run.err());
    assertTrue(
        run.err().startsWith("lowbit compare: error: --chart " + under
            + ": its directory cannot be created: "),
        run.err());
    assertEquals(1, run.err().strip().lines().count(), run.err());
  }

  @Test
  void chartAndNoChartExcludeEachOther() {
    // The --chart file was silently not written.
    Path chart = dir.resolve("chart.png");
    CliRun run = run("compare", "--sample", "--no-chart", "--chart", chart.toString());
    assertEquals(2, run.status(), run.err());
    assertEquals("lowbit compare: error: --chart and --no-chart exclude each other\n", run.err());
    assertEquals("", run.out());
  }

  @Test
  void badInputLeavesNoChartDirectoryBehind() {
    // The chart's missing directories were created before --optimizers and --data were checked.
    Path chart = dir.resolve("new/sub/chart.png");
    CliRun run =
        run("compare", "--data", dir.resolve("none").toString(), "--chart", chart.toString());
    assertEquals(2, run.status(), run.err());
    assertEquals(
        "lowbit compare: error: " + dir.resolve("none") + ": not a directory\n", run.err());
    run = run("compare", "--sample", "--optimizers", "adamw3bit", "--chart", chart.toString());
    assertEquals(2, run.status(), run.err());
    assertTrue(run.err().contains("unknown optimizer 'adamw3bit'"), run.err());
    assertTrue(java.nio.file.Files.notExists(dir.resolve("new")), "left behind: " + chart);
  }

  @Test
  void epochsWhoseStepsCannotBeTimedAreRefused() {
    // 2^31 - 1 epochs of 4 steps: was a NegativeArraySizeException (new long[(int) steps])
    CliRun run =
        run("compare", "--sample", "--train-limit", "512", "--epochs",
            Integer.toString(Integer.MAX_VALUE), "--no-chart");
    assertEquals(2, run.status(), run.err());
    assertTrue(
        run.err().startsWith(
            "lowbit compare: error: --epochs 2147483647 gives 8,589,934,588 training steps (4 per"
                + " epoch), too many to time"),
        run.err());
  }

  @Test
  void moreSeedsThanTheMostAreRefusedBeforeAnyWork() {
    // 2^31 - 2 seeds: was an OutOfMemoryError with a stack trace, filling the list of seeds
    CliRun run =
        run("compare", "--sample", "--seeds", Integer.toString(Integer.MAX_VALUE - 1),
            "--no-chart");
    assertEquals(2, run.status(), run.err());
    assertEquals(
        "lowbit compare: error: --seeds must be between 1 and 10,000 (each seed is a whole"
            + " training run of every optimizer), got 2,147,483,646\n",
        run.err());
    assertEquals("", run.out());
  }

  @Test
  void lastSeedMayBeIntegerMaxValue() {
    CliRun run =
        run("compare", "--sample", "--train-limit", "256", "--test-limit", "100", "--optimizers",
            "adamw32", "--first-seed", "2147483646", "--seeds", "2", "--json", "--no-chart");
    assertEquals(0, run.status(), run.err());
    assertEquals(
        "[2147483646,2147483647]",
        JsonParser.parseString(run.out()).getAsJsonObject().getAsJsonObject("settings")
            .getAsJsonArray("seeds").toString());
    run = run("compare", "--sample", "--first-seed", "2147483647", "--seeds", "2", "--no-chart");
    assertEquals(2, run.status(), run.err());
    assertTrue(run.err().contains("--first-seed must be at least 1 and leave room"), run.err());
  }

  @Test
  void damagedDataDirectoryIsNamed() throws IOException {
    java.nio.file.Files.write(dir.resolve("train-images-idx3-ubyte"), new byte[] {0, 0, 8, 3, 0});
    CliRun run = run("compare", "--data", dir.toString(), "--no-chart");
    assertEquals(2, run.status());
    assertTrue(run.err().contains(dir.resolve("train-images-idx3-ubyte").toString()), run.err());
    assertTrue(run.err().contains("truncated header"), run.err());
  }

  @Test
  void anUnreadableDataFileIsNamedWithTheReason() throws IOException {
    // The reason was the path again: "FILE: cannot be read: FILE"
    Path unreadable = dev.lowbit.bench.Unreadable.file(dir);
    Path data = java.nio.file.Files.createDirectory(dir.resolve("data"));
    Path images = data.resolve("train-images-idx3-ubyte");
    java.nio.file.Files.createSymbolicLink(images, unreadable);
    CliRun run = run("compare", "--data", data.toString(), "--no-chart");
    assertEquals(2, run.status(), run.err());
    assertEquals(
        "lowbit compare: error: " + images + ": cannot be read: permission denied\n", run.err());
    assertEquals("", run.out());
  }

  @Test
  void theSameSeedTrainsTheSameAndADivergedRunIsReported() {
    String[] args = {
      "compare", "--sample", "--train-limit", "128", "--test-limit", "100", "--batch-size", "64",
      "--optimizers", "adamw32", "--json", "--no-chart"
    };
    JsonObject first = JsonParser.parseString(run(args).out()).getAsJsonObject()
        .getAsJsonArray("optimizers").get(0).getAsJsonObject();
    JsonObject second = JsonParser.parseString(run(args).out()).getAsJsonObject()
        .getAsJsonArray("optimizers").get(0).getAsJsonObject();
    assertEquals(first.get("finalTrainLossMean"), second.get("finalTrainLossMean"));
    assertEquals(first.get("testAccuracyMean"), second.get("testAccuracyMean"));

    CliRun diverged =
        run("compare", "--sample", "--train-limit", "128", "--test-limit", "100", "--batch-size",
            "64", "--optimizers", "adamw32", "--lr", "1e30", "--no-chart");
    assertEquals(0, diverged.status(), diverged.err());
    assertTrue(diverged.out().contains("\nadamw32 seed 1: diverged"), diverged.out());
    assertTrue(diverged.err().contains(" seed 1 diverged"), diverged.err());
  }

  /** The state-bytes cell of an optimizer's row in the text table. */
  private static long stateBytes(String out, String optimizer) {
    String row =
        out.lines().filter(l -> l.startsWith(optimizer + " ")).findFirst().orElseThrow();
    return Long.parseLong(row.strip().split("\\s+")[1].replace(",", ""));
  }

  @Test
  void epochsWhoseTimingsExceedAQuarterOfTheHeapAreRefusedNamingTheLimit() {
    long heap = Runtime.getRuntime().maxMemory();
    long fit = heap / 4 / 16; // two longs per step
    long epochs = (fit + 1 + 3) / 4; // 4 steps per epoch: just over what fits
    CliRun run =
        run("compare", "--sample", "--train-limit", "512", "--epochs", Long.toString(epochs),
            "--no-chart");
    assertEquals(2, run.status(), run.err());
    assertEquals(
        String.format(
            java.util.Locale.ROOT,
            "lowbit compare: error: --epochs %d gives %,d training steps (4 per epoch), too many"
                + " to time: at most %,d fit in a quarter of the maximum heap (%,d MiB)%n",
            epochs, 4 * epochs, fit, heap >> 20),
        run.err());
  }

  @Test
  void moreEngineThreadsThanProcessorsAreRefused() {
    // 2^31 - 1 threads: libgomp aborted the JVM ("Out of memory allocating 463856469096 bytes")
    int processors = Runtime.getRuntime().availableProcessors();
    CliRun run =
        run("compare", "--sample", "--engine-threads", Integer.toString(processors + 1),
            "--no-chart");
    assertEquals(2, run.status(), run.err());
    assertEquals(
        "lowbit compare: error: --engine-threads must be between 1 and the " + processors
            + " processors the JVM sees, got " + (processors + 1) + "\n",
        run.err());
    assertEquals("", run.out());
  }

  @Test
  void aZeroLearningRateIsRefused() {
    CliRun run = run("compare", "--sample", "--lr", "0", "--no-chart");
    assertEquals(2, run.status());
    assertEquals("lowbit compare: error: --lr must be a positive number, got 0.0\n", run.err());
  }

  @Test
  void theBatchSizeMayBeAsLargeAsTheTrainingSetAndNoLarger() {
    CliRun run =
        run("compare", "--sample", "--train-limit", "64", "--test-limit", "10", "--batch-size",
            "64", "--optimizers", "adamw32", "--json", "--no-chart");
    assertEquals(0, run.status(), run.err());
    assertEquals(1, JsonParser.parseString(run.out()).getAsJsonObject()
        .getAsJsonObject("settings").get("stepsPerEpoch").getAsInt());
    run = run("compare", "--sample", "--train-limit", "64", "--batch-size", "65", "--no-chart");
    assertEquals(2, run.status());
    assertEquals(
        "lowbit compare: error: --batch-size must be between 1 and the number of training images"
            + " (64), got 65\n",
        run.err());
    run = run("compare", "--sample", "--train-limit", "64", "--batch-size", "0", "--no-chart");
    assertTrue(run.err().contains("got 0\n"), run.err());
  }
}
