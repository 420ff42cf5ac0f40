package dev.lowbit.optim.shampoo;

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
      assertTrue(r.quantizedMatrix() > r.quantizedEigenvectors(), r.toString());
      assertTrue(r.quantizedEigenvectors() > r.rectifiedEigenvectors(), r.toString());
    }
    // The linear-square book is the better one for eigenvectors (the paper's ablation).
    assertTrue(rows.get(0).rectifiedEigenvectors() < rows.get(1).rectifiedEigenvectors());
  }

  @Test
  void badInputIsNamed() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> InverseRootErrors.measure(new double[5], 2, List.of(), 1e-6));
    assertTrue(e.getMessage().contains("spd"), e.getMessage());
  }
}
