package dev.lowbit.optim.shampoo;

import dev.lowbit.quant.CodeBook;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;

/**
 * The quantization error in {@code A^(-1/4)} of the three ways to store a preconditioner in
 * 4 bits (Table 1 of "4-bit Shampoo for Memory-Efficient Network Training"), measured as the
 * normalized error {@code NRE = ||f(A) - g(A)||_F / ||f(A)||_F} where {@code f(A) = A^(-1/4)}
 * exactly and {@code g} is the root computed from the quantized form:
 *
 * <ul>
 *   <li><b>4-bit A</b>: A itself quantized (rows in blocks of 64, absmax scale), symmetrized,
 *       decomposed again; negative eigenvalues the quantization creates are clamped to 0 first
 *       (they have no real root).
 *   <li><b>4-bit U</b>: eigenvalues float32, eigenvectors quantized (blocks of 64 along each
 *       eigenvector); root {@code V diag((lambda + epsilon max lambda)^(-1/4)) V^T} with the
 *       dequantized V.
 *   <li><b>4-bit U + rectification</b>: the same after 4 Björck iterations on V.
 * </ul>
 * Every root uses the same regularization {@code lambda + epsilon * max(lambda)}.
 */
public final class InverseRootErrors {

  private InverseRootErrors() {}

  /**
   * The three errors for one code book.
   *
   * @param codeBook the code book's name
   * @param quantizedMatrix NRE with A quantized
   * @param quantizedEigenvectors NRE with U quantized
   * @param rectifiedEigenvectors NRE with U quantized and rectified
   */
  public record Row(
      String codeBook,
      double quantizedMatrix,
      double quantizedEigenvectors,
      double rectifiedEigenvectors) {}

  /**
   * Measures the three errors for each code book.
   *
   * @param spd a symmetric positive definite matrix, row-major, {@code order * order} values
   * @param order its order
   * @param books the 4-bit code books to compare
   * @param epsilon the regularization, relative to the largest eigenvalue (1e-6 in Shampoo)
   * @return one row per book, in the order given
   * @throws IllegalArgumentException if the matrix has the wrong size, is not finite, or has no
   *     finite inverse root, or if {@code epsilon} is negative or not finite
   */
  public static List<Row> measure(double[] spd, int order, List<CodeBook> books, double epsilon) {
    Objects.requireNonNull(spd, "spd");
    Objects.requireNonNull(books, "books");
    if (order < 1 || spd.length != (long) order * order) {
      throw new IllegalArgumentException(
          "spd must hold order * order = " + ((long) order * order) + " values, got "
              + spd.length);
    }
    if (!(epsilon >= 0) || Double.isInfinite(epsilon)) {
      throw new IllegalArgumentException("epsilon must be finite and >= 0, got " + epsilon);
    }
    DMatrixRMaj a = DMatrixRMaj.wrap(order, order, spd.clone());
    SpectralMath.Eigen exact = SpectralMath.symmetricEigen(a);
    if (exact == null) {
      throw new IllegalArgumentException("spd: the eigendecomposition failed (not finite?)");
    }
    DMatrixRMaj exactRoot =
        SpectralMath.inverseFourthRoot(exact.vectors(), exact.values(), epsilon);
    if (exactRoot == null) {
      throw new IllegalArgumentException(
          "spd: no finite inverse 4th root (not positive definite for this epsilon)");
    }
    double[] float32Values = new double[order];
    for (int k = 0; k < order; k++) {
      float32Values[k] = (float) exact.values()[k];
    }
    List<Row> rows = new ArrayList<>();
    for (CodeBook book : books) {
      double quantizedA = quantizedMatrixError(a, book, epsilon, exactRoot);
      DMatrixRMaj v = QuantizedRows.quantizeColumns(book, exact.vectors()).dequantizeColumns();
      double quantizedU = rootError(v, float32Values, epsilon, exactRoot);
      SpectralMath.bjorck(v, FourBitPreconditioner.ROOT_RECTIFICATIONS);
      double rectifiedU = rootError(v, float32Values, epsilon, exactRoot);
      rows.add(new Row(book.name(), quantizedA, quantizedU, rectifiedU));
    }
    return List.copyOf(rows);
  }

  /**
   * The synthetic matrix of the error table: {@code Q diag(lambda) Q^T} with Q a random
   * orthogonal matrix (Q of a Gaussian matrix's QR) and eigenvalues {@code 10^(-6u)}, u uniform
   * in [0, 1): a spectrum falling over six decades, like a preconditioner's.
   *
   * @param order the order
   * @param seed the random seed
   * @return the matrix, row-major
   */
  public static double[] syntheticSpd(int order, long seed) {
    if (order < 1) {
      throw new IllegalArgumentException("order must be >= 1, got " + order);
    }
    java.util.Random random = new java.util.Random(seed);
    DMatrixRMaj gauss =
        org.ejml.dense.row.RandomMatrices_DDRM.rectangleGaussian(order, order, 0, 1, random);
    org.ejml.interfaces.decomposition.QRDecomposition<DMatrixRMaj> qr =
        org.ejml.dense.row.factory.DecompositionFactory_DDRM.qr(order, order);
    qr.decompose(gauss);
    DMatrixRMaj q = qr.getQ(null, true);
    double[] lambda = new double[order];
    for (int k = 0; k < order; k++) {
      lambda[k] = Math.pow(10, -6 * random.nextDouble());
    }
    return SpectralMath.compose(q, lambda).data;
  }

  private static double quantizedMatrixError(
      DMatrixRMaj a, CodeBook book, double epsilon, DMatrixRMaj exactRoot) {
    DMatrixRMaj q = QuantizedRows.quantize(book, a).dequantize();
    DMatrixRMaj symmetric = new DMatrixRMaj(q.numRows, q.numCols);
    CommonOps_DDRM.transpose(q, symmetric);
    CommonOps_DDRM.add(0.5, q, 0.5, symmetric, symmetric);
    SpectralMath.Eigen eigen = SpectralMath.symmetricEigen(symmetric);
    if (eigen == null) {
      return Double.NaN;
    }
    double[] clamped = eigen.values().clone();
    for (int k = 0; k < clamped.length; k++) {
      clamped[k] = Math.max(0.0, clamped[k]);
    }
    return rootError(eigen.vectors(), clamped, epsilon, exactRoot);
  }

  private static double rootError(
      DMatrixRMaj vectors, double[] values, double epsilon, DMatrixRMaj exactRoot) {
    DMatrixRMaj root = SpectralMath.inverseFourthRoot(vectors, values, epsilon);
    return root == null ? Double.POSITIVE_INFINITY : SpectralMath.normalizedError(root, exactRoot);
  }
}
