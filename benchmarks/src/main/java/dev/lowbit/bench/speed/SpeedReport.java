package dev.lowbit.bench.speed;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The results of {@code lowbit speed}: one AdamW step time per variant, and the copy baseline,
 * as a text table with ratios or as the JSON object the issue defines.
 *
 * @param params parameters in the timed tensor
 * @param results one entry per state x implementation x thread count
 * @param copyNsPerFloat nanoseconds per float of a plain copy of the same size
 * @param activeProvider the name of the kernels {@code Kernels.get()} chose
 */
public record SpeedReport(
    int params, List<Result> results, double copyNsPerFloat, String activeProvider) {

  /**
   * One measured variant.
   *
   * @param state the state format
   * @param impl the implementation
   * @param threads worker threads
   * @param nsPerParam median step time divided by the parameter count
   */
  public record Result(StateKind state, Implementation impl, int threads, double nsPerParam) {}

  /**
   * The JSON form: {@code {"params":N,"results":[{"optimizer":"adamw","state":...,"impl":...,
   * "threads":...,"nsPerParam":...}],"copyNsPerFloat":x}}.
   *
   * @return the JSON text
   */
  public String toJson() {
    JsonObject root = new JsonObject();
    root.addProperty("params", params);
    JsonArray array = new JsonArray();
    for (Result r : results) {
      JsonObject o = new JsonObject();
      o.addProperty("optimizer", "adamw");
      o.addProperty("state", r.state().label());
      o.addProperty("impl", r.impl().name().toLowerCase(Locale.ROOT));
      o.addProperty("threads", r.threads());
      o.addProperty("nsPerParam", r.nsPerParam());
      array.add(o);
    }
    root.add("results", array);
    root.addProperty("copyNsPerFloat", copyNsPerFloat);
    Gson gson = new GsonBuilder().disableHtmlEscaping().create();
    return gson.toJson(root);
  }

  /**
   * A table: ns/parameter per variant, and its ratio to float32 (same implementation and
   * threads), to the scalar reference (same state and threads) and to one thread.
   *
   * @return the text
   */
  public String toText() {
    StringBuilder out = new StringBuilder();
    out.append(
        String.format(
            Locale.ROOT,
            "AdamW step, %,d parameters (heap segments); active kernels: %s%n"
                + "copy baseline: %.3f ns/float (a float32 AdamW step moves 7 floats per"
                + " parameter)%n%n",
            params, activeProvider, copyNsPerFloat));
    out.append(
        String.format(
            Locale.ROOT,
            "%-16s %-6s %7s %11s %8s %10s %10s%n",
            "state", "impl", "threads", "ns/param", "vs fp32", "vs scalar", "vs 1 thr"));
    for (Result r : results) {
      out.append(
          String.format(
              Locale.ROOT,
              "%-16s %-6s %7d %11.3f %8s %10s %10s%n",
              r.state().label(),
              r.impl().name().toLowerCase(Locale.ROOT),
              r.threads(),
              r.nsPerParam(),
              ratio(r, find(StateKind.FP32, r.impl(), r.threads()), false),
              r.impl() == Implementation.SCALAR
                  ? "-"
                  : ratio(r, find(r.state(), Implementation.SCALAR, r.threads()), true),
              r.threads() == 1 ? "-" : ratio(r, find(r.state(), r.impl(), 1), true)));
    }
    out.append(
        "\nvs fp32: this step's time / the float32 step's (lower is better); vs scalar and"
            + " vs 1 thr: speed-up (higher is better).\n");
    return out.toString();
  }

  private Optional<Result> find(StateKind state, Implementation impl, int threads) {
    return results.stream()
        .filter(r -> r.state() == state && r.impl() == impl && r.threads() == threads)
        .findFirst();
  }

  /** {@code speedUp}: other / this (how many times faster); else this / other. */
  private static String ratio(Result r, Optional<Result> other, boolean speedUp) {
    return other
        .map(o -> speedUp ? o.nsPerParam() / r.nsPerParam() : r.nsPerParam() / o.nsPerParam())
        .map(x -> String.format(Locale.ROOT, "%.2fx", x))
        .orElse("-");
  }
}
