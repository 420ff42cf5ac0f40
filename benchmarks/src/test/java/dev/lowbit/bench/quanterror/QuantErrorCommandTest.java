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
  void helpWorks() {
    CliRun run = run("quant-error", "--help");
    assertEquals(0, run.status());
    assertTrue(run.out().contains("--json") && run.out().contains("--shapes"), run.out());
  }
}
