package dev.lowbit.optim.shampoo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.quant.CodeBook;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.junit.jupiter.api.Test;

/** The 4-bit preconditioner's storage, below the optimizer (shampoo.md, "4-bit"). */
class FourBitPreconditionerTest {

  /**
   * Before any update the statistic is {@code epsilon * I} and the root {@code I}, as for float32
   * preconditioners: the root is what a block keeps when its first refresh fails.
   */
  @Test
  void theInitialStatisticIsEpsilonTimesTheIdentityAndTheRootTheIdentity() {
    FourBitPreconditioner p =
        new FourBitPreconditioner(64, CodeBook.LINEAR_SQUARE_SIGNED_4, 0.25);
    DMatrixRMaj expected = CommonOps_DDRM.identity(64);
    CommonOps_DDRM.scale(0.25, expected);
    // The identity's columns quantize exactly (absmax 1, one nonzero each); 0.25 is a float.
    assertArrayEquals(expected.data, p.statistic().data, 0.0);
    float[] identity = new float[64 * 64];
    for (int i = 0; i < 64; i++) {
      identity[i * 64 + i] = 1f;
    }
    assertArrayEquals(identity, p.inverseRoot(), 0f);
  }

  /**
   * The root's diagonal is stored in float32 and left out of the 4-bit off-diagonal, whose
   * blocks are then scaled by the off-diagonal alone. Statistic {@code [[2.5, 1.5], [1.5, 2.5]]}:
   * eigenvalues 4 and 1 along (1, 1) and (1, -1), which 4 bits store exactly (each entry is its
   * column's absmax). Root (epsilon 0): diagonal (4^(-1/4) + 1) / 2, off-diagonal
   * (4^(-1/4) - 1) / 2, the only nonzero of its row block, so it too is stored exactly. Scaled by
   * the diagonal instead, it would be 0.17 of the block's absmax, between two codes.
   */
  @Test
  void theRootsOffDiagonalIsQuantizedWithoutTheDiagonal() {
    FourBitPreconditioner p = new FourBitPreconditioner(2, CodeBook.LINEAR_SQUARE_SIGNED_4, 0.0);
    DMatrixRMaj gram = new DMatrixRMaj(new double[][] {{2.5, 1.5}, {1.5, 2.5}});
    // beta 0: the statistic is the Gram matrix; repeated subspace steps converge to its basis.
    for (int i = 0; i < 40; i++) {
      assertTrue(p.accumulate(gram, 0.0));
    }
    assertTrue(p.refreshInverseRoot(0.0));
    double diagonal = (Math.pow(4, -0.25) + 1) / 2;
    double offDiagonal = (Math.pow(4, -0.25) - 1) / 2;
    float[] expected = {
      (float) diagonal, (float) offDiagonal, (float) offDiagonal, (float) diagonal
    };
    assertArrayEquals(expected, p.inverseRoot(), 1e-6f);
  }

  /**
   * The stored 4-bit eigenvectors are visibly not orthonormal; the root is taken from them after
   * Björck rectification (shampoo.md, the paper's "4-bit U + rect"), so it is nearer the root of
   * the rectified basis than the root of the stored one.
   */
  @Test
  void theRootIsTakenFromTheRectifiedEigenvectors() {
    int n = 64;
    double epsilon = 1e-6;
    CodeBook book = CodeBook.LINEAR_SQUARE_SIGNED_4;
    FourBitPreconditioner p = afterOneStatistic(n, book, epsilon, 4);
    DMatrixRMaj stored = storedEigenvectors(p, book);
    double[] values = storedEigenvalues(p);
    DMatrixRMaj rectified = stored.copy();
    SpectralMath.bjorck(rectified, FourBitPreconditioner.ROOT_RECTIFICATIONS);
    DMatrixRMaj rootOfStored = SpectralMath.inverseFourthRoot(stored, values, epsilon);
    DMatrixRMaj rootOfRectified = SpectralMath.inverseFourthRoot(rectified, values, epsilon);

    assertTrue(p.refreshInverseRoot(epsilon));
    float[] r = p.inverseRoot();
    DMatrixRMaj root = new DMatrixRMaj(n, n);
    for (int i = 0; i < r.length; i++) {
      root.data[i] = r[i];
    }
    double toRectified = SpectralMath.normalizedError(root, rootOfRectified);
    double toStored = SpectralMath.normalizedError(root, rootOfStored);
    System.out.println("4-bit root: NRE " + toRectified + " to the rectified basis' root, "
        + toStored + " to the stored basis' root");
    assertTrue(toRectified < toStored, toRectified + " vs " + toStored);
  }

  /**
   * A statistic update decays {@code V diag(lambda) V^T} with the stored eigenvectors rectified
   * first (one Björck iteration): with beta 1 and a zero Gram matrix the update only re-derives
   * the stored statistic, and its eigenvalues are nearer those re-derived from the rectified
   * basis than from the stored one.
   */
  @Test
  void aStatisticUpdateStartsFromTheRectifiedEigenvectors() {
    int n = 64;
    CodeBook book = CodeBook.LINEAR_SQUARE_SIGNED_4;
    FourBitPreconditioner p = afterOneStatistic(n, book, 1e-6, 5);
    DMatrixRMaj stored = storedEigenvectors(p, book);
    double[] values = storedEigenvalues(p);
    DMatrixRMaj rectified = stored.copy();
    SpectralMath.bjorck(rectified, FourBitPreconditioner.UPDATE_RECTIFICATIONS);
    double[] fromStored =
        SpectralMath.subspaceStep(SpectralMath.compose(stored, values), stored).values();
    double[] fromRectified =
        SpectralMath.subspaceStep(SpectralMath.compose(rectified, values), rectified).values();

    assertTrue(p.accumulate(new DMatrixRMaj(n, n), 1.0));
    double[] updated = storedEigenvalues(p);
    double toRectified = distance(updated, fromRectified);
    double toStored = distance(updated, fromStored);
    System.out.println("4-bit statistic update: eigenvalues " + toRectified
        + " from those of the rectified basis, " + toStored + " from the stored basis'");
    assertTrue(toRectified < toStored, toRectified + " vs " + toStored);
  }

  /**
   * A preconditioner whose statistic is, after one update with beta 0, a random rotation of
   * {@link Problems#threeDecades}: a spread spectrum that 4 bits store visibly inexactly.
   */
  private static FourBitPreconditioner afterOneStatistic(
      int n, CodeBook book, double epsilon, long seed) {
    FourBitPreconditioner p = new FourBitPreconditioner(n, book, epsilon);
    DMatrixRMaj statistic = SpectralMath.compose(
        Problems.orthogonal(n, new Random(seed)), Problems.threeDecades(n));
    assertTrue(p.accumulate(statistic, 0.0));
    return p;
  }

  private static Map<String, StateArray> stateOf(FourBitPreconditioner p) {
    Map<String, StateArray> state = new HashMap<>();
    for (StateArray a : p.state()) {
      state.put(a.suffix(), a);
    }
    return state;
  }

  /** The eigenvectors as stored (4-bit, dequantized), one per column. */
  private static DMatrixRMaj storedEigenvectors(FourBitPreconditioner p, CodeBook book) {
    Map<String, StateArray> state = stateOf(p);
    return QuantizedRows.of(
            book, p.order(), state.get("eigenvectors.codes").bytes(),
            state.get("eigenvectors.scales").floats())
        .dequantizeColumns();
  }

  private static double[] storedEigenvalues(FourBitPreconditioner p) {
    float[] f = stateOf(p).get("eigenvalues").floats();
    double[] d = new double[f.length];
    for (int k = 0; k < f.length; k++) {
      d[k] = f[k];
    }
    return d;
  }

  /** Euclidean distance between two vectors of eigenvalues. */
  private static double distance(double[] a, double[] b) {
    double sum = 0;
    for (int k = 0; k < a.length; k++) {
      sum += (a[k] - b[k]) * (a[k] - b[k]);
    }
    return Math.sqrt(sum);
  }
}
