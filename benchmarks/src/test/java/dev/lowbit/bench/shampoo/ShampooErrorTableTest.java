package dev.lowbit.bench.shampoo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
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
 * rows, and what docs/shampoo.md says of the computed table, checked at order 256 (the order-1200
 * table takes about a minute).
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

  /**
   * docs/shampoo.md on the table: four rows (synthetic, then real; linear-square, then DE), the
   * ordering holds for both matrices and both books (4-bit A worst, rectified 4-bit U best), and
   * linear-square beats DE everywhere. Order 256, the order InverseRootErrorsTest checks, for both
   * matrices (the real one from a 256-wide layer).
   */
  @Test
  void aSmallerTableKeepsTheDocumentedOrderings() {
    List<ShampooErrorTable.Entry> rows = ShampooErrorTable.compute(256);
    rows.forEach(r -> System.out.println("order 256: " + r));
    assertEquals(
        List.of(
            "synthetic linear-square-signed-4", "synthetic de-signed-4",
            "real linear-square-signed-4", "real de-signed-4"),
        rows.stream().map(r -> r.matrix() + " " + r.codeBook()).toList());
    assertTrue(ShampooErrorTable.ordered(rows), rows.toString());
    // The figures docs/shampoo.md gives for this table, to the 4 decimals it prints (the numbers
    // are deterministic): they pin both matrices, the training run's included.
    double[][] documented = {
      {1.2730, 0.1542, 0.0693}, {1.2950, 0.1979, 0.0896},
      {4.0399, 0.1600, 0.0235}, {4.1882, 0.2075, 0.0310}
    };
    for (int r = 0; r < 4; r++) {
      ShampooErrorTable.Entry e = rows.get(r);
      double[] measured =
          {e.quantizedMatrix(), e.quantizedEigenvectors(), e.rectifiedEigenvectors()};
      for (int c = 0; c < 3; c++) {
        assertEquals(documented[r][c], measured[c], 0.00005, e.toString());
      }
    }
    for (int m = 0; m < 4; m += 2) {
      ShampooErrorTable.Entry linear = rows.get(m);
      ShampooErrorTable.Entry de = rows.get(m + 1);
      String both = linear + " " + de;
      assertTrue(linear.quantizedMatrix() < de.quantizedMatrix(), both);
      assertTrue(linear.quantizedEigenvectors() < de.quantizedEigenvectors(), both);
      assertTrue(linear.rectifiedEigenvectors() < de.rectifiedEigenvectors(), both);
    }
  }

  @Test
  void anOrderWithoutAMatrixIsRefusedNamingIt() {
    for (int order : new int[] {0, -1, ShampooErrorTable.MAX_ORDER + 1}) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> ShampooErrorTable.compute(order));
      assertEquals(
          "order must be in [1, 46340] (order * order values fit an array), got " + order,
          e.getMessage());
    }
    // Order 1, the smallest: a 1 x 1 matrix and eigenvector quantize exactly (absmax scaling), so
    // all that is left is the float32 rounding of the stored scale or eigenvalue: at most 2^-24
    // relative, less after the 4th root.
    List<ShampooErrorTable.Entry> one = ShampooErrorTable.compute(1);
    assertEquals(4, one.size());
    for (ShampooErrorTable.Entry e : one) {
      double[] errors =
          {e.quantizedMatrix(), e.quantizedEigenvectors(), e.rectifiedEigenvectors()};
      for (double error : errors) {
        assertTrue(error >= 0 && error <= 0x1p-24, e.toString());
      }
    }
    ShampooErrorTable.checkOrder(ShampooErrorTable.MAX_ORDER); // accepted
    // The largest order is a square that fits an array, the next one is not.
    assertTrue((long) ShampooErrorTable.MAX_ORDER * ShampooErrorTable.MAX_ORDER
        <= Integer.MAX_VALUE - 8);
    assertTrue((long) (ShampooErrorTable.MAX_ORDER + 1) * (ShampooErrorTable.MAX_ORDER + 1)
        > Integer.MAX_VALUE - 8);
  }
}
