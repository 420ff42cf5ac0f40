package dev.lowbit.optim.shampoo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.quant.CodeBook;
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
}
