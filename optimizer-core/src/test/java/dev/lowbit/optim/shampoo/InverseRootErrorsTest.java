package dev.lowbit.optim.shampoo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.quant.CodeBook;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The ordering of the paper's Table 1 (4-bit A worst, then 4-bit U, then 4-bit U with
 * rectification; paper, order 1200: 0.62 / 0.054 / 0.034 NRE) on a synthetic SPD matrix of
 * order 256 whose spectrum falls over 6 decades, like a preconditioner's. The order-1200 table
 * is printed by {@code lowbit quant-error --shampoo}.
 */
class InverseRootErrorsTest {

  @Test
  void quantizingEigenvectorsBeatsQuantizingTheMatrixAndRectificationHelps() {
    List<InverseRootErrors.Row> rows =
        InverseRootErrors.measure(
            InverseRootErrors.syntheticSpd(256, 5), 256,
            List.of(CodeBook.LINEAR_SQUARE_SIGNED_4, CodeBook.DE_SIGNED_4), 1e-6);
    for (InverseRootErrors.Row r : rows) {
      System.out.println("order 256 synthetic: " + r);
      // Finite: the negative eigenvalues that quantizing A creates are clamped to 0 (shampoo.md),
      // not left to make the root undefined.
      assertTrue(Double.isFinite(r.quantizedMatrix()), r.toString());
      assertTrue(r.quantizedMatrix() > r.quantizedEigenvectors(), r.toString());
      assertTrue(r.quantizedEigenvectors() > r.rectifiedEigenvectors(), r.toString());
    }
    // The linear-square book is the better one for eigenvectors (the paper's ablation).
    assertTrue(rows.get(0).rectifiedEigenvectors() < rows.get(1).rectifiedEigenvectors());
  }

  @Test
  void badInputIsNamed() {
    assertMeasureRefuses(new double[5], 2, "spd");
  }

  /** The smallest valid input: order 1, epsilon 0 (documented as "finite and >= 0"). */
  @Test
  void orderOneAndEpsilonZeroAreMeasured() {
    List<InverseRootErrors.Row> rows =
        InverseRootErrors.measure(
            new double[] {4.0}, 1, List.of(CodeBook.LINEAR_SQUARE_SIGNED_4), 0.0);
    // A 1 x 1 matrix and eigenvector quantize exactly (absmax scaling): no error at all.
    assertEquals(
        new InverseRootErrors.Row("linear-square-signed-4", 0.0, 0.0, 0.0), rows.get(0));
    assertMeasureRefuses(new double[0], 0, "= 0 values");
  }

  /** The message says how many values the order needs and how many there were. */
  @Test
  void aWrongSizeNamesTheSizeTheOrderNeeds() {
    assertMeasureRefuses(new double[5], 3, "order * order = 9 values, got 5");
  }

  /** Eigenvalues 10^(-6u), u in [0, 1): order 1 is the eigenvalue itself, in (1e-6, 1]. */
  @Test
  void theSyntheticSpectrumFallsOverSixDecadesFromOrderOne() {
    for (long seed = 0; seed < 20; seed++) {
      double[] a = InverseRootErrors.syntheticSpd(1, seed);
      assertEquals(1, a.length);
      assertTrue(a[0] > 1e-6 && a[0] <= 1.0, "seed " + seed + ": " + a[0]);
    }
    assertThrows(IllegalArgumentException.class, () -> InverseRootErrors.syntheticSpd(0, 1));
  }

  /** measure refuses {@code a} of this order with a message holding {@code fragment}. */
  private static void assertMeasureRefuses(double[] a, int order, String fragment) {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> InverseRootErrors.measure(a, order, List.of(), 1e-6));
    assertTrue(e.getMessage().contains(fragment), e.getMessage());
  }
}
