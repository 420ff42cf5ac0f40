package dev.lowbit.bench.compare;

import com.google.gson.GsonBuilder;
import com.google.gson.TypeAdapter;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonWriter;
import java.io.IOException;
import java.util.List;
import java.util.Locale;

/**
 * The result of {@code lowbit compare}: the settings and one summary per optimizer, as a text
 * table or as JSON.
 *
 * @param settings what was run
 * @param optimizers one row per optimizer, in run order
 */
public record CompareReport(CompareSettings settings, List<OptimizerSummary> optimizers) {

  /** The table's column headings, in order. */
  public static final List<String> COLUMNS =
      List.of(
          "optimizer",
          "state bytes",
          "bytes/param",
          "final train loss",
          "test accuracy %",
          "ms/step",
          "update ms/step");

  /** Copies the list. */
  public CompareReport {
    optimizers = List.copyOf(optimizers);
  }

  /**
   * The table, with a header line and a note on how the numbers were measured.
   *
   * @return the text, lines separated by {@code \n}
   */
  public String toTable() {
    String[][] cells = new String[optimizers.size() + 1][];
    cells[0] = COLUMNS.toArray(String[]::new);
    for (int i = 0; i < optimizers.size(); i++) {
      OptimizerSummary s = optimizers.get(i);
      cells[i + 1] =
          new String[] {
            s.optimizer(),
            String.format(Locale.ROOT, "%,d", s.stateBytes()),
            String.format(Locale.ROOT, "%.3f", s.bytesPerParameter()),
            s.completedSeeds() == 0
                ? "-"
                : String.format(Locale.ROOT, "%.4f", s.finalTrainLossMean()),
            accuracyCell(s),
            String.format(Locale.ROOT, "%.2f", s.medianStepMillis()),
            String.format(Locale.ROOT, "%.2f", s.medianUpdateMillis())
          };
    }
    int[] widths = new int[COLUMNS.size()];
    for (String[] row : cells) {
      for (int c = 0; c < row.length; c++) {
        widths[c] = Math.max(widths[c], row[c].length());
      }
    }
    StringBuilder out = new StringBuilder();
    for (int r = 0; r < cells.length; r++) {
      for (int c = 0; c < widths.length; c++) {
        String cell = cells[r][c];
        String padded =
            c == 0 ? String.format("%-" + widths[c] + "s", cell)
                : String.format("%" + widths[c] + "s", cell);
        out.append(c == 0 ? "" : "  ").append(padded);
      }
      out.append('\n');
      if (r == 0) {
        int total = 0;
        for (int w : widths) {
          total += w + 2;
        }
        out.append("-".repeat(total - 2)).append('\n');
      }
    }
    return out.toString();
  }

  private static String accuracyCell(OptimizerSummary s) {
    if (s.completedSeeds() == 0) {
      return "diverged";
    }
    String cell =
        String.format(Locale.ROOT, "%.2f +- %.2f", s.testAccuracyMean(), s.testAccuracyStd());
    return s.completedSeeds() == s.seeds()
        ? cell
        : cell + " (" + s.completedSeeds() + " of " + s.seeds() + " seeds)";
  }

  /**
   * The report as one JSON object. A number that is not finite (the loss and accuracy of an
   * optimizer none of whose seeds completed are NaN) is written as {@code null}, since JSON has no
   * NaN or infinity.
   *
   * @return pretty-printed JSON
   */
  public String toJson() {
    return new GsonBuilder()
        .disableHtmlEscaping()
        .setPrettyPrinting()
        .serializeNulls()
        .registerTypeAdapter(double.class, FINITE_OR_NULL)
        .registerTypeAdapter(Double.class, FINITE_OR_NULL)
        .create()
        .toJson(this);
  }

  /** Writes a double as a JSON number, or as {@code null} when it is NaN or infinite. */
  private static final TypeAdapter<Double> FINITE_OR_NULL =
      new TypeAdapter<>() {
        @Override
        public void write(JsonWriter out, Double value) throws IOException {
          if (value == null || !Double.isFinite(value)) {
            out.nullValue();
          } else {
            out.value(value.doubleValue());
          }
        }

        @Override
        public Double read(JsonReader in) {
          throw new UnsupportedOperationException("the report is only written");
        }
      };
}
