package dev.lowbit.bench.jmh;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Turns JMH JSON results ({@code -rf json}) of {@link KernelBenchmark},
 * {@link StreamCopyBenchmark} and {@link NonFiniteCheckBenchmark} into the markdown tables of
 * {@code docs/benchmarks.md}: time per parameter for every row, then the target ratios
 * (1&lt;&lt;24 parameters, AdamW, heap) computed from rows of the same files.
 *
 * <pre>
 * java -cp benchmarks/target/lowbit.jar dev.lowbit.bench.jmh.JmhTable results1.json results2.json
 * </pre>
 */
public final class JmhTable {

  private JmhTable() {}

  /** One JMH result row. */
  record Row(String benchmark, Map<String, String> params, double microsPerOp, double error) {
    String param(String name) {
      return params.getOrDefault(name, "");
    }

    long size() {
      return Long.parseLong(param("size"));
    }

    double nanosPerElement() {
      return microsPerOp * 1000.0 / size();
    }
  }

  /**
   * Prints the tables.
   *
   * @param args JMH JSON result files
   * @throws IOException if a file cannot be read
   */
  public static void main(String[] args) throws IOException {
    if (args.length == 0) {
      System.err.println("usage: JmhTable <jmh-result.json>...");
      System.exit(2);
    }
    List<Row> rows = new ArrayList<>();
    for (String file : args) {
      rows.addAll(read(Path.of(file)));
    }
    System.out.print(table(rows));
    System.out.print(targets(rows));
  }

  static List<Row> read(Path file) throws IOException {
    List<Row> rows = new ArrayList<>();
    JsonArray results;
    try {
      results = JsonParser.parseString(Files.readString(file)).getAsJsonArray();
    } catch (RuntimeException e) {
      throw new IOException(file + ": not a JMH JSON result array: " + e.getMessage(), e);
    }
    for (JsonElement element : results) {
      JsonObject o = element.getAsJsonObject();
      String name = o.get("benchmark").getAsString();
      Map<String, String> params = new TreeMap<>();
      if (o.has("params")) {
        for (Map.Entry<String, JsonElement> e : o.getAsJsonObject("params").entrySet()) {
          params.put(e.getKey(), e.getValue().getAsString());
        }
      }
      JsonObject metric = o.getAsJsonObject("primaryMetric");
      if (!metric.get("scoreUnit").getAsString().equals("us/op")) {
        throw new IOException(file + ": " + name + " is not in us/op");
      }
      double error = metric.get("scoreError").isJsonPrimitive()
          && metric.get("scoreError").getAsJsonPrimitive().isNumber()
          ? metric.get("scoreError").getAsDouble()
          : Double.NaN;
      rows.add(
          new Row(name.substring(name.lastIndexOf('.', name.lastIndexOf('.') - 1) + 1), params,
              metric.get("score").getAsDouble(), error));
    }
    return rows;
  }

  static String table(List<Row> rows) {
    StringBuilder out = new StringBuilder();
    out.append("| benchmark | impl | state | optimizer | size | threads | memory | us/op | ± |"
        + " ns/element |\n");
    out.append("|---|---|---|---|---:|---:|---|---:|---:|---:|\n");
    for (Row r : rows) {
      out.append(
          String.format(
              Locale.ROOT,
              "| %s | %s | %s | %s | %s | %s | %s | %.1f | %.1f | %.3f |%n",
              r.benchmark(), r.param("implementation"), r.param("state"), r.param("optimizer"),
              r.param("size"), r.param("threads"), r.param("memory"), r.microsPerOp(), r.error(),
              r.nanosPerElement()));
    }
    return out.toString();
  }

  static String targets(List<Row> rows) {
    StringBuilder out =
        new StringBuilder("\n| target (AdamW, 1<<24, heap) | measured | limit | verdict |\n");
    out.append("|---|---:|---:|---|\n");
    target(out, rows, "8-bit SIMD / fp32 SIMD, 1 thread",
        "8BIT", "SIMD", 1, "FP32", "SIMD", 1, 1.0, false);
    target(out, rows, "8-bit SIMD / fp32 SIMD, 2 threads",
        "8BIT", "SIMD", 2, "FP32", "SIMD", 2, 0.8, false);
    target(out, rows, "4-bit SIMD / fp32 SIMD, 1 thread",
        "4BIT", "SIMD", 1, "FP32", "SIMD", 1, 1.1, false);
    target(out, rows, "4-bit SIMD / fp32 SIMD, 2 threads",
        "4BIT", "SIMD", 2, "FP32", "SIMD", 2, 0.9, false);
    for (int threads = 1; threads <= 2; threads++) {
      for (String state : List.of("8BIT", "4BIT")) {
        target(out, rows, "SIMD speed-up over scalar, " + state + ", " + threads + " thread(s)",
            state, "SCALAR", threads, state, "SIMD", threads, 4.0, true);
      }
    }
    for (String state : List.of("8BIT", "4BIT")) {
      target(out, rows, "2-thread speed-up over 1 thread, SIMD " + state,
          state, "SIMD", 1, state, "SIMD", 2, 1.7, true);
    }
    return out.toString();
  }

  /**
   * Appends one target line: {@code a / b}; a ratio target passes when at most the limit, a
   * speed-up target when at least the limit.
   */
  private static void target(
      StringBuilder out, List<Row> rows, String label, String stateA, String implA, int threadsA,
      String stateB, String implB, int threadsB, double limit, boolean speedUp) {
    Optional<Row> a = find(rows, stateA, implA, threadsA);
    Optional<Row> b = find(rows, stateB, implB, threadsB);
    if (a.isEmpty() || b.isEmpty()) {
      out.append("| ").append(label).append(" | not measured | | |\n");
      return;
    }
    double ratio = a.get().microsPerOp() / b.get().microsPerOp();
    boolean met = speedUp ? ratio >= limit : ratio <= limit;
    out.append(
        String.format(
            Locale.ROOT, "| %s | %.2fx | %s%.1fx | %s |%n", label, ratio, speedUp ? ">= " : "<= ",
            limit, met ? "met" : "missed"));
  }

  private static Optional<Row> find(List<Row> rows, String state, String impl, int threads) {
    return rows.stream()
        .filter(r -> r.benchmark().equals("KernelBenchmark.step"))
        .filter(r -> r.param("optimizer").equals("ADAMW") && r.param("size").equals("16777216"))
        .filter(r -> r.param("memory").equals("HEAP") && r.param("state").equals(state))
        .filter(r -> r.param("implementation").equals(impl))
        .filter(r -> r.param("threads").equals(Integer.toString(threads)))
        .findFirst();
  }
}
