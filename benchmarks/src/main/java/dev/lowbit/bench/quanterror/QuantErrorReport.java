package dev.lowbit.bench.quanterror;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.lowbit.quant.QuantizedTensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Quantizes every tensor's moment with every scheme and collects the error figures.
 *
 * @param rows one row per scheme, first moment first
 */
public record QuantErrorReport(List<Row> rows) {

  /**
   * One scheme's error over all tensors.
   *
   * @param scheme the format
   * @param relL2 relative L2 error
   * @param maxRel largest relative error of a non-zero value
   * @param zeroed fraction of non-zero values decoded as 0
   */
  public record Row(Scheme scheme, double relL2, double maxRel, double zeroed) {}

  /**
   * Measures every scheme of {@link Scheme#firstMoment()} on the tensors' {@code m} and of
   * {@link Scheme#secondMoment()} on their {@code v}.
   *
   * @param tensors the moment data
   * @return the report
   */
  public static QuantErrorReport measure(List<AdamMoments> tensors) {
    List<Row> rows = new ArrayList<>();
    for (Scheme scheme : Scheme.firstMoment()) {
      rows.add(measure(scheme, tensors));
    }
    for (Scheme scheme : Scheme.secondMoment()) {
      rows.add(measure(scheme, tensors));
    }
    return new QuantErrorReport(List.copyOf(rows));
  }

  /**
   * Measures one scheme on its moment of every tensor (rank-1 on a 1-D tensor falls back to
   * block-wise 128, as it does in the optimizers).
   *
   * @param scheme the format
   * @param tensors the moment data
   * @return the scheme's row
   */
  public static Row measure(Scheme scheme, List<AdamMoments> tensors) {
    ErrorStats stats = new ErrorStats();
    for (AdamMoments t : tensors) {
      float[] x = scheme.moment().equals("m") ? t.m() : t.v();
      QuantizedTensor q =
          QuantizedTensor.allocate(scheme.book(), scheme.normalization(), t.shape());
      q.quantize(x);
      stats.add(x, q.dequantize());
    }
    return new Row(scheme, stats.relL2(), stats.maxRel(), stats.zeroed());
  }

  /**
   * The report as one JSON object: {@code
   * {"schemes":[{"moment":"m","name":"B256/Dynamic","bits":8,"relL2":..,"maxRel":..,"zeroed":..},
   * ...]}}.
   *
   * @return the JSON text
   */
  public String toJson() {
    JsonArray schemes = new JsonArray();
    for (Row row : rows) {
      JsonObject o = new JsonObject();
      o.addProperty("moment", row.scheme().moment());
      o.addProperty("name", row.scheme().name());
      o.addProperty("bits", row.scheme().bits());
      o.addProperty("relL2", row.relL2());
      o.addProperty("maxRel", row.maxRel());
      o.addProperty("zeroed", row.zeroed());
      schemes.add(o);
    }
    JsonObject root = new JsonObject();
    root.add("schemes", schemes);
    return new GsonBuilder().disableHtmlEscaping().create().toJson(root);
  }

  /**
   * The report as a plain-text table, one line per scheme.
   *
   * @return the table, lines ending in a newline
   */
  public String toTable() {
    StringBuilder out = new StringBuilder();
    out.append(String.format(Locale.ROOT, "%-6s %-16s %4s %10s %12s %11s%n",
        "moment", "scheme", "bits", "relL2", "maxRel", "zeroed"));
    for (Row row : rows) {
      out.append(String.format(Locale.ROOT, "%-6s %-16s %4d %10.5f %12.4g %10.5f%%%n",
          row.scheme().moment(), row.scheme().name(), row.scheme().bits(), row.relL2(),
          row.maxRel(), 100 * row.zeroed()));
    }
    return out.toString();
  }
}
