package dev.lowbit.optim.shampoo;

/** How Shampoo stores its preconditioners and their inverse roots. */
public enum ShampooPrecision {
  /** Float32 statistics and inverse roots, refreshed by an exact eigendecomposition. */
  FP32,
  /**
   * 4-bit Shampoo: each statistic as float32 eigenvalues plus 4-bit eigenvectors (blocks of 64
   * along each eigenvector), each inverse root as a float32 diagonal plus a 4-bit off-diagonal.
   * Preconditioners with fewer than 4096 elements stay float32.
   */
  FOUR_BIT
}
