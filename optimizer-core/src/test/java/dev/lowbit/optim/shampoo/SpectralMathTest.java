package dev.lowbit.optim.shampoo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.quant.CodeBook;
import java.util.Random;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.junit.jupiter.api.Test;

class SpectralMathTest {

  @Test
  void inverseFourthRootOfAKnownSpectrum() {
    Random random = new Random(1);
    DMatrixRMaj q = Problems.orthogonal(40, random);
    double[] lambda = Problems.threeDecades(40);
    DMatrixRMaj a = SpectralMath.compose(q, lambda);
    SpectralMath.Eigen eigen = SpectralMath.symmetricEigen(a);
    DMatrixRMaj root = SpectralMath.inverseFourthRoot(eigen.vectors(), eigen.values(), 1e-6);
    double[] expected = new double[40];
    for (int k = 0; k < 40; k++) {
      expected[k] = Math.pow(lambda[k] + 1e-6, -0.25);
    }
    DMatrixRMaj exact = SpectralMath.compose(q, expected);
    assertTrue(SpectralMath.normalizedError(root, exact) < 1e-10);
    // The root to the fourth power, times A, is the identity (up to epsilon).
    DMatrixRMaj r2 = new DMatrixRMaj(40, 40);
    CommonOps_DDRM.mult(root, root, r2);
    DMatrixRMaj r4 = new DMatrixRMaj(40, 40);
    CommonOps_DDRM.mult(r2, r2, r4);
    DMatrixRMaj product = new DMatrixRMaj(40, 40);
    CommonOps_DDRM.mult(r4, a, product);
    assertTrue(SpectralMath.normalizedError(product, CommonOps_DDRM.identity(40)) < 1e-3);
  }

  @Test
  void rootOfANonPositiveShiftedEigenvalueIsRefused() {
    DMatrixRMaj v = CommonOps_DDRM.identity(3);
    assertNull(SpectralMath.inverseFourthRoot(v, new double[] {1, 0, 0.5}, 0.0));
    assertNull(SpectralMath.inverseFourthRoot(v, new double[] {1, -1e-18, 0.5}, 1e-30));
    assertTrue(SpectralMath.inverseFourthRoot(v, new double[] {1, 0, 0.5}, 1e-6) != null);
  }

  /** Björck rectification: ||V^T V - I|| of 4-bit eigenvectors shrinks with every iteration. */
  @Test
  void orthogonalityDefectShrinksWithBjorckIterations() {
    for (CodeBook book : new CodeBook[] {CodeBook.LINEAR_SQUARE_SIGNED_4, CodeBook.DE_SIGNED_4}) {
      DMatrixRMaj q = Problems.orthogonal(192, new Random(2));
      DMatrixRMaj v = QuantizedRows.quantizeColumns(book, q).dequantizeColumns();
      double previous = SpectralMath.orthogonalityError(v);
      assertTrue(previous > 0.1, "4-bit eigenvectors are visibly not orthonormal: " + previous);
      for (int it = 1; it <= 4; it++) {
        SpectralMath.bjorck(v, 1);
        double now = SpectralMath.orthogonalityError(v);
        assertTrue(
            now < 0.5 * previous, book + " iteration " + it + ": " + now + " vs " + previous);
        previous = now;
      }
      assertTrue(previous < 1e-6, book + " after 4 iterations: " + previous);
    }
  }

  @Test
  void warmStartedSubspaceStepsConvergeToTheEigenpairs() {
    Random random = new Random(3);
    DMatrixRMaj q = Problems.orthogonal(30, random);
    double[] lambda = new double[30];
    for (int k = 0; k < 30; k++) {
      lambda[k] = Math.pow(0.7, k);
    }
    DMatrixRMaj a = SpectralMath.compose(q, lambda);
    SpectralMath.Eigen step = new SpectralMath.Eigen(null, CommonOps_DDRM.identity(30));
    for (int i = 0; i < 200; i++) {
      step = SpectralMath.subspaceStep(a, step.vectors());
    }
    DMatrixRMaj rebuilt = SpectralMath.compose(step.vectors(), step.values());
    assertTrue(SpectralMath.normalizedError(rebuilt, a) < 1e-6);
    assertEquals(1.0, step.values()[0], 1e-9);
  }

  /**
   * allFinite is the guard that turns an overflowed product, root or Rayleigh quotient into a
   * refusal: NaN and both infinities anywhere, even as the last element, make it false.
   */
  @Test
  void allFiniteIsFalseForNaNOrAnInfinityAnywhere() {
    assertTrue(SpectralMath.allFinite(new double[] {0.0, -Double.MAX_VALUE, Double.MIN_VALUE}));
    assertTrue(SpectralMath.allFinite(CommonOps_DDRM.identity(3)));
    double[] nonFinite = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY};
    for (double bad : nonFinite) {
      for (int at : new int[] {0, 8}) {
        double[] values = new double[9];
        values[at] = bad;
        assertFalse(SpectralMath.allFinite(values), bad + " at " + at);
        assertFalse(SpectralMath.allFinite(DMatrixRMaj.wrap(3, 3, values)), bad + " at " + at);
      }
    }
  }
}
