package dev.lowbit.bench.shampoo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * How {@code lowbit quant-error --shampoo} prints its table and decides its exit status, on made-up
 * rows (computing the real table takes about a minute).
 */
class ShampooErrorTableTest {

  private static final List<ShampooErrorTable.Entry> ROWS =
      List.of(
          new ShampooErrorTable.Entry("synthetic", "linear-square-signed-4", 0.5, 0.05, 0.03),
          new ShampooErrorTable.Entry("real", "de-signed-4", 0.25, 0.125, 0.0625));

  private static String print(boolean json) {
    StringWriter text = new StringWriter();
    PrintWriter out = new PrintWriter(text);
    ShampooErrorTable.print(ROWS, out, json);
    out.flush();
    return text.toString();
  }

  @Test
  void theTextTableHasOneLinePerRowAndThePapersFigures() {
    assertEquals(
        "Normalized error of A^(-1/4), order 1200, epsilon 1e-06\n"
            + "matrix     code book                   4-bit A    4-bit U   4-bit U+rect\n"
            + "synthetic  linear-square-signed-4       0.5000     0.0500         0.0300\n"
            + "real       de-signed-4                  0.2500     0.1250         0.0625\n"
            + "paper      linear-square-signed-4       0.6200     0.0540         0.0340\n",
        print(false));
  }

  /** The table reads the same on a machine whose locale writes decimal commas. */
  @Test
  void theTextTableDoesNotDependOnTheDefaultLocale() {
    String root = print(false);
    Locale before = Locale.getDefault();
    try {
      Locale.setDefault(Locale.GERMANY);
      assertEquals(root, print(false));
    } finally {
      Locale.setDefault(before);
    }
  }

  @Test
  void theJsonNamesTheSettingsThePaperAndEveryRow() {
    JsonObject root = JsonParser.parseString(print(true)).getAsJsonObject();
    assertEquals(1200, root.get("order").getAsInt());
    assertEquals(1e-6, root.get("epsilon").getAsDouble());
    assertEquals("normalized Frobenius error of A^(-1/4)", root.get("metric").getAsString());
    JsonObject paper = root.getAsJsonObject("paper_linear_square");
    assertEquals(0.62, paper.get("quantized_matrix").getAsDouble());
    assertEquals(0.054, paper.get("quantized_eigenvectors").getAsDouble());
    assertEquals(0.034, paper.get("rectified_eigenvectors").getAsDouble());
    JsonArray rows = root.getAsJsonArray("rows");
    assertEquals(2, rows.size());
    JsonObject real = rows.get(1).getAsJsonObject();
    assertEquals("real", real.get("matrix").getAsString());
    assertEquals("de-signed-4", real.get("code_book").getAsString());
    assertEquals(0.25, real.get("quantized_matrix").getAsDouble());
    assertEquals(0.125, real.get("quantized_eigenvectors").getAsDouble());
    assertEquals(0.0625, real.get("rectified_eigenvectors").getAsDouble());
    assertEquals("synthetic", rows.get(0).getAsJsonObject().get("matrix").getAsString());
  }

  @Test
  void theTableIsOrderedOnlyWhenEveryRowDecreasesStrictly() {
    assertTrue(ShampooErrorTable.ordered(ROWS));
    assertTrue(ShampooErrorTable.ordered(List.of()));
    var ties =
        List.of(
            new ShampooErrorTable.Entry("a", "b", 0.5, 0.5, 0.1),
            new ShampooErrorTable.Entry("a", "b", 0.5, 0.1, 0.1));
    for (var row : ties) {
      assertFalse(ShampooErrorTable.ordered(List.of(ROWS.get(0), row)), row.toString());
      assertFalse(ShampooErrorTable.ordered(List.of(row, ROWS.get(1))), row.toString());
    }
  }
}
