package dev.lowbit.bench.quanterror;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.lowbit.bench.CliRun;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Runs {@code lowbit quant-error} in process on small shapes and checks what it prints. */
class QuantErrorCommandTest {
  private static final String SMALL = "--shapes=256x128,96x300,4099";

  private static CliRun run(String... args) {
    return CliRun.of(args);
  }

  @Test
  void jsonIsOneObjectWithEverySchemeAndTheZeroPointProblemShows() {
    CliRun run = run("quant-error", "--json", SMALL, "--steps=5");
    assertEquals(0, run.status(), run.err());
    JsonObject root = JsonParser.parseString(run.out()).getAsJsonObject();
    assertEquals(Set.of("schemes"), root.keySet());
    JsonArray schemes = root.getAsJsonArray("schemes");
    assertEquals(Scheme.firstMoment().size() + Scheme.secondMoment().size(), schemes.size());
    Map<String, JsonObject> byKey = new HashMap<>();
    for (JsonElement e : schemes) {
      JsonObject s = e.getAsJsonObject();
      assertEquals(Set.of("moment", "name", "bits", "relL2", "maxRel", "zeroed"), s.keySet());
      assertTrue(Set.of(4, 8).contains(s.get("bits").getAsInt()));
      byKey.put(s.get("moment").getAsString() + " " + s.get("name").getAsString(), s);
    }
    // Zero-free second-moment books never zero a value; the DE book with zero does.
    assertEquals(0.0, byKey.get("v Rank-1/Linear").get("zeroed").getAsDouble());
    assertEquals(0.0, byKey.get("v B128/DE-0").get("zeroed").getAsDouble());
    assertTrue(byKey.get("v B128/DE").get("zeroed").getAsDouble() > 0);
    // 8 bits beat 4 bits, and smaller blocks beat larger ones on these heavy-tailed moments.
    double m8 = byKey.get("m B256/Dynamic").get("relL2").getAsDouble();
    assertTrue(m8 < 0.05 && m8 < byKey.get("m B128/DE").get("relL2").getAsDouble());
    assertTrue(m8 <= byKey.get("m B2048/Dynamic").get("relL2").getAsDouble());
  }

  @Test
  void tableHasAHeaderAndOneLinePerScheme() {
    CliRun run = run("quant-error", SMALL, "--steps=2", "--seed=4");
    assertEquals(0, run.status(), run.err());
    String[] lines = run.out().strip().split("\n");
    assertTrue(lines[0].contains("2 steps, seed 4, shapes 256x128, 96x300, 4099"), lines[0]);
    assertTrue(lines[2].startsWith("moment"), lines[2]);
    assertEquals(3 + Scheme.firstMoment().size() + Scheme.secondMoment().size(), lines.length);
    assertTrue(run.out().contains("v      Rank-1/Linear"), run.out());
  }

  @Test
  void sameSeedSameOutput() {
    assertEquals(run("quant-error", "--json", "--shapes=64x64").out(),
        run("quant-error", "--json", "--shapes=64x64").out());
  }

  @Test
  void badShapeIsAUsageError() {
    CliRun run = run("quant-error", "--shapes=12xq");
    assertEquals(2, run.status());
    assertTrue(run.err().contains("'12xq'"), run.err());
  }

  @Test
  void trailingSeparatorOverflowingAndTooLargeShapesAreUsageErrors() {
    CliRun run = run("quant-error", "--shapes=1024x");
    assertEquals(2, run.status(), run.err());
    assertTrue(run.err().contains("--shapes: '1024x' is not a shape"), run.err());
    // rows * cols overflows a long: was a NegativeArraySizeException
    run = run("quant-error", "--shapes=3037000500x3037000500");
    assertEquals(2, run.status(), run.err());
    assertTrue(run.err().contains("'3037000500x3037000500' has more than 2147483639 elements"),
        run.err());
    // fits an array, but m, v and the work copies do not fit the heap
    run = run("quant-error", "--shapes=46000x46000");
    assertEquals(2, run.status(), run.err());
    assertTrue(run.err().contains("more than the maximum heap"), run.err());
  }

  @Test
  void aShapeListWithNoShapesIsAUsageError() {
    // ",," splits into no shapes: was a report of 0.0 errors for every scheme, exit 0
    CliRun run = run("quant-error", "--json", "--shapes=,,");
    assertEquals(2, run.status(), run.out());
    assertTrue(
        run.err().startsWith(
            "lowbit quant-error: error: --shapes: no shape given (e.g. 1024x1024,65537)\n"),
        run.err());
    assertEquals("", run.out());
  }

  @Test
  void theOptionsShampooIgnoresAreRefusedWithIt() {
    // --shampoo's matrices are fixed: "--shampoo --steps -1" ran the whole table, exit 0
    for (String option : new String[] {"--steps=-1", "--shapes=q", "--seed=3"}) {
      CliRun run = run("quant-error", "--shampoo", option);
      assertEquals(2, run.status(), option + ": " + run.out());
      assertEquals(
          "lowbit quant-error: error: --shampoo takes none of --shapes, --steps and --seed (its"
              + " matrices are fixed)",
          run.err().lines().findFirst().orElseThrow());
      assertEquals("", run.out());
    }
  }

  @Test
  void helpWorks() {
    CliRun run = run("quant-error", "--help");
    assertEquals(0, run.status());
    assertTrue(run.out().contains("--json") && run.out().contains("--shapes"), run.out());
  }

  @Test
  void eachTensorGetsTheSeedPlusItsIndex() {
    CliRun run = run("quant-error", "--json", "--shapes=64x64,4096", "--steps=3", "--seed=7");
    assertEquals(0, run.status(), run.err());
    QuantErrorReport expected =
        QuantErrorReport.measure(
            java.util.List.of(
                AdamMoments.generate(new long[] {64, 64}, 3, 7),
                AdamMoments.generate(new long[] {4096}, 3, 8)));
    assertEquals(expected.toJson() + "\n", run.out());
  }

  @Test
  void oneStepAndSizeOneAreAllowedZeroStepsAreNot() {
    assertEquals(0, run("quant-error", "--json", "--shapes=1x4096", "--steps=1").status());
    CliRun run = run("quant-error", "--shapes=64x64", "--steps=0");
    assertEquals(2, run.status());
    assertEquals("lowbit quant-error: error: --steps must be at least 1, got 0", run.err().lines()
        .findFirst().orElseThrow());
  }

  @Test
  void theHeapCheckCountsEveryTensorsMomentsAndTheLargestsWorkCopies() {
    // 8 bytes for each of 1.3e9 elements, 12 more for each of the largest tensor's 9e8:
    // 21.2e9 bytes = 20,217.8 MiB, printed rounded down.
    CliRun run = run("quant-error", "--shapes=30000x30000,20000x20000");
    assertEquals(2, run.status(), run.err());
    assertTrue(
        run.err().startsWith(
            "lowbit quant-error: error: --shapes: 1,300,000,000 elements need about 20,217 MiB"
                + " of heap, more than the maximum heap of "
                + String.format(
                    java.util.Locale.ROOT, "%,d", Runtime.getRuntime().maxMemory() >> 20)
                + " MiB (use smaller shapes or raise -Xmx)\n"),
        run.err());
    // The largest array a shape may fill passes the size check and meets the heap check.
    run = run("quant-error", "--shapes=2147483639");
    assertEquals(2, run.status(), run.err());
    assertTrue(run.err().contains("--shapes: 2,147,483,639 elements need about"), run.err());
    run = run("quant-error", "--shapes=2147483640");
    assertTrue(run.err().contains("'2147483640' has more than 2147483639 elements"), run.err());
  }
}
