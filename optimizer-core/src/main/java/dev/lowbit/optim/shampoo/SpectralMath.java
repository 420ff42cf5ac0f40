package dev.lowbit.optim.shampoo;

import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.EigenDecomposition_F64;
import org.ejml.interfaces.decomposition.QRDecomposition;

/**
 * The dense linear algebra of Shampoo, in double precision through EJML.
 *
 * <p>Why double: the inverse root is dominated by the smallest eigenvalues, which sit near
 * {@code epsilon * max(lambda)} (epsilon = 1e-6 by default). A float32 eigensolver has an
 * absolute error of about {@code 1e-7 * max(lambda)} per eigenvalue, the same size as the
 * regularization, so the small end of the spectrum (and so the root) would be noise. Storage
 * stays float32 or 4-bit; only these transient computations are double.
 */
final class SpectralMath {

  private SpectralMath() {}

  /**
   * Eigenvalues and eigenvectors of a symmetric matrix.
   *
   * @param values the eigenvalues
   * @param vectors the eigenvectors, one per column, in the order of {@code values}
   */
  record Eigen(double[] values, DMatrixRMaj vectors) {}

  /**
   * Symmetric eigendecomposition.
   *
   * @param a a symmetric matrix (not modified)
   * @return the decomposition, or null when it failed or produced a non-finite value
   */
  static Eigen symmetricEigen(DMatrixRMaj a) {
    if (!allFinite(a)) {
      return null;
    }
    int n = a.numRows;
    EigenDecomposition_F64<DMatrixRMaj> eig = DecompositionFactory_DDRM.eig(n, true, true);
    if (!eig.decompose(a.copy())) {
      return null;
    }
    double[] values = new double[n];
    DMatrixRMaj vectors = new DMatrixRMaj(n, n);
    for (int k = 0; k < n; k++) {
      values[k] = eig.getEigenvalue(k).getReal();
      DMatrixRMaj v = eig.getEigenVector(k);
      if (v == null) {
        return null;
      }
      for (int i = 0; i < n; i++) {
        vectors.unsafe_set(i, k, v.get(i));
      }
    }
    return allFinite(values) && allFinite(vectors) ? new Eigen(values, vectors) : null;
  }

  /**
   * {@code V * diag((lambda + epsilon * max(lambda))^(-1/4)) * V^T}.
   *
   * <p>No eigenvalue is clamped: a shifted eigenvalue that is not positive (a statistic that
   * lost positive definiteness, or an epsilon too small to cover rounding) has no real inverse
   * root, and the caller must keep its last good root rather than write one.
   *
   * @param vectors eigenvectors, one per column
   * @param values eigenvalues
   * @param epsilon relative regularization
   * @return the inverse 4th root, or null when it would not be finite
   */
  static DMatrixRMaj inverseFourthRoot(DMatrixRMaj vectors, double[] values, double epsilon) {
    double shift = epsilon * max(values);
    int n = values.length;
    // V * diag(d) * V^T = W * W^T with W = V * diag(sqrt(d)): one symmetric product.
    DMatrixRMaj w = vectors.copy();
    for (int k = 0; k < n; k++) {
      double shifted = values[k] + shift;
      double halfRoot = Math.pow(shifted, -0.125);
      if (!(shifted > 0) || !Double.isFinite(halfRoot)) {
        return null;
      }
      for (int i = 0; i < n; i++) {
        w.unsafe_set(i, k, w.unsafe_get(i, k) * halfRoot);
      }
    }
    DMatrixRMaj root = new DMatrixRMaj(n, n);
    CommonOps_DDRM.multOuter(w, root);
    return allFinite(root) ? root : null;
  }

  /**
   * Björck orthonormalization in place: {@code V = 1.5 V - 0.5 V V^T V}, repeated. Each
   * iteration roughly squares the distance of {@code V^T V} from the identity.
   *
   * @param v the matrix to rectify (overwritten)
   * @param iterations how many times
   */
  static void bjorck(DMatrixRMaj v, int iterations) {
    DMatrixRMaj product = new DMatrixRMaj(v.numRows, v.numCols);
    for (int it = 0; it < iterations; it++) {
      DMatrixRMaj gram = gramOfColumns(v);
      CommonOps_DDRM.mult(v, gram, product);
      CommonOps_DDRM.add(1.5, v, -0.5, product, v);
    }
  }

  /**
   * {@code ||V^T V - I||_F}: how far the columns are from orthonormal.
   *
   * @param v the matrix
   * @return the Frobenius norm of the defect
   */
  static double orthogonalityError(DMatrixRMaj v) {
    DMatrixRMaj gram = gramOfColumns(v);
    for (int i = 0; i < gram.numRows; i++) {
      gram.unsafe_set(i, i, gram.unsafe_get(i, i) - 1.0);
    }
    return normF(gram);
  }

  /**
   * One warm-started subspace iteration: {@code P = QR(A V)}, {@code lambda = diag(P^T A P)}.
   *
   * @param a the symmetric matrix
   * @param v the previous eigenvector estimate, one vector per column
   * @return the new estimate (for {@code A V = 0}: {@code v} itself with zero eigenvalues), or
   *     null when the result is not finite
   */
  static Eigen subspaceStep(DMatrixRMaj a, DMatrixRMaj v) {
    int n = a.numRows;
    DMatrixRMaj av = new DMatrixRMaj(n, n);
    CommonOps_DDRM.mult(a, v, av);
    if (!allFinite(av)) {
      return null;
    }
    if (CommonOps_DDRM.elementMaxAbs(av) == 0) {
      // A V = 0: no basis to orthonormalize (QR gives NaN), but A = 0 is exact with any
      // orthonormal basis and zero eigenvalues, so keep the current one.
      return new Eigen(new double[n], v.copy());
    }
    QRDecomposition<DMatrixRMaj> qr = DecompositionFactory_DDRM.qr(n, n);
    if (!qr.decompose(av)) {
      return null;
    }
    DMatrixRMaj p = qr.getQ(null, true);
    DMatrixRMaj ap = new DMatrixRMaj(n, n);
    CommonOps_DDRM.mult(a, p, ap);
    double[] values = new double[n];
    for (int k = 0; k < n; k++) {
      double sum = 0;
      for (int i = 0; i < n; i++) {
        sum += p.unsafe_get(i, k) * ap.unsafe_get(i, k);
      }
      values[k] = sum;
    }
    return allFinite(values) && allFinite(p) ? new Eigen(values, p) : null;
  }

  /**
   * {@code M^T M}, as {@code (M^T)(M^T)^T}: EJML's row-by-row outer product is several times
   * faster than its column-walking {@code multInner} for large matrices.
   */
  static DMatrixRMaj gramOfColumns(DMatrixRMaj m) {
    DMatrixRMaj t = CommonOps_DDRM.transpose(m, null);
    DMatrixRMaj gram = new DMatrixRMaj(m.numCols, m.numCols);
    CommonOps_DDRM.multOuter(t, gram);
    return gram;
  }

  /**
   * {@code M M^T}.
   */
  static DMatrixRMaj gramOfRows(DMatrixRMaj m) {
    DMatrixRMaj gram = new DMatrixRMaj(m.numRows, m.numRows);
    CommonOps_DDRM.multOuter(m, gram);
    return gram;
  }

  /** {@code V * diag(lambda) * V^T}. */
  static DMatrixRMaj compose(DMatrixRMaj vectors, double[] values) {
    int n = values.length;
    DMatrixRMaj scaled = vectors.copy();
    for (int k = 0; k < n; k++) {
      for (int i = 0; i < n; i++) {
        scaled.unsafe_set(i, k, scaled.unsafe_get(i, k) * values[k]);
      }
    }
    DMatrixRMaj a = new DMatrixRMaj(n, n);
    CommonOps_DDRM.multTransB(scaled, vectors, a);
    return a;
  }

  /** Frobenius norm, with scaling so that large entries cannot overflow. */
  static double normF(DMatrixRMaj m) {
    return org.ejml.dense.row.NormOps_DDRM.normF(m);
  }

  /** {@code ||approx - exact||_F / ||exact||_F}. */
  static double normalizedError(DMatrixRMaj approx, DMatrixRMaj exact) {
    DMatrixRMaj diff = new DMatrixRMaj(exact.numRows, exact.numCols);
    CommonOps_DDRM.subtract(approx, exact, diff);
    return normF(diff) / normF(exact);
  }

  static boolean allFinite(DMatrixRMaj m) {
    return allFinite(m.data, m.getNumElements());
  }

  static boolean allFinite(double[] values) {
    return allFinite(values, values.length);
  }

  private static boolean allFinite(double[] values, int length) {
    for (int i = 0; i < length; i++) {
      if (!Double.isFinite(values[i])) {
        return false;
      }
    }
    return true;
  }

  private static double max(double[] values) {
    double max = Double.NEGATIVE_INFINITY;
    for (double v : values) {
      max = Math.max(max, v);
    }
    return max;
  }
}
