package dev.lowbit.bench.speed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.lowbit.bench.CliRun;
import dev.lowbit.kernels.Kernels;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@code lowbit speed} run in process: its option checks, and one short run on the smallest
 * tensor it accepts, whose JSON must reach the command's writer. Only the shape of the result is
 * checked, never a time.
 */
class SpeedCommandTest {

  @Test
  void paramsThatCannotFitTheHeapAreAUsageError() {
    // 2^31 - 1 parameters need 32 GiB: was an OutOfMemoryError after the first warm-ups
    CliRun run = CliRun.of("speed", "--params", Integer.toString(Integer.MAX_VALUE));
    assertEquals(2, run.status(), run.err());
    assertTrue(
        run.err().contains("--params 2,147,483,647 needs about 32,799 MiB of heap (16 bytes per"
            + " parameter and 32 MiB besides), more than the maximum heap of "
            + String.format("%,d", Runtime.getRuntime().maxMemory() >> 20) + " MiB"),
        run.err());
    assertEquals("", run.out());
  }

  @Test
  void paramsThatWouldFillTheWholeHeapAreAUsageError() {
    // 16 bytes per parameter fit, with 16 MiB to spare, but not the reserve: arrays that fill
    // the heap were an OutOfMemoryError with a stack trace (-Xmx1g, --params 67000000)
    long params = (Runtime.getRuntime().maxMemory() - (16 << 20)) / 16;
    assumeTrue(params <= Integer.MAX_VALUE, "heap too large for an int count to fill it");
    CliRun run = CliRun.of("speed", "--params", Long.toString(params), "--millis", "1");
    assertEquals(2, run.status(), run.err());
    assertTrue(
        run.err().startsWith(String.format(
            java.util.Locale.ROOT, "lowbit speed: error: --params %,d needs about", params)),
        run.err());
    assertTrue(run.err().contains("and 32 MiB besides), more than the maximum heap"), run.err());
    assertEquals("", run.out());
  }

  @Test
  void tooFewParamsAndANonPositiveTimeAreUsageErrors() {
    CliRun run = CliRun.of("speed", "--params", "4095");
    assertEquals(2, run.status(), run.err());
    assertTrue(
        run.err().startsWith("lowbit speed: error: --params must be at least 4096, got 4095\n"),
        run.err());
    run = CliRun.of("speed", "--params", "4096", "--millis", "0");
    assertEquals(2, run.status(), run.err());
    assertTrue(
        run.err().startsWith("lowbit speed: error: --millis must be positive, got 0\n"),
        run.err());
  }

  @Test
  void aShortRunPrintsEveryVariantAsJsonThroughTheCommandsWriter() {
    CliRun run = CliRun.of("speed", "--params", "4096", "--millis", "1", "--json");
    assertEquals(0, run.status(), run.err());
    JsonObject root = JsonParser.parseString(run.out()).getAsJsonObject();
    assertEquals(Set.of("params", "results", "copyNsPerFloat"), root.keySet());
    assertEquals(4096, root.get("params").getAsInt());
    assertTrue(root.get("copyNsPerFloat").getAsDouble() > 0, run.out());
    List<String> expected = new ArrayList<>();
    List<String> impls = Kernels.simd().isPresent() ? List.of("simd", "scalar") : List.of("scalar");
    for (StateKind state : StateKind.values()) {
      for (String impl : impls) {
        for (int threads = 1; threads <= 2; threads++) {
          expected.add(state.label() + " " + impl + " " + threads);
        }
      }
    }
    JsonArray results = root.getAsJsonArray("results");
    List<String> seen = new ArrayList<>();
    for (JsonElement e : results) {
      JsonObject r = e.getAsJsonObject();
      seen.add(r.get("state").getAsString() + " " + r.get("impl").getAsString() + " "
          + r.get("threads").getAsInt());
      double ns = r.get("nsPerParam").getAsDouble();
      assertTrue(ns > 0 && ns < 1e7, "nsPerParam " + ns);
    }
    assertEquals(expected, seen);
  }
}
