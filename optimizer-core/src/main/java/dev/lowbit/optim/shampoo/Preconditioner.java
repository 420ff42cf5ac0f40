package dev.lowbit.optim.shampoo;

import dev.lowbit.quant.CodeBook;
import org.ejml.data.DMatrixRMaj;

/**
 * One side (left or right) of one block's Kronecker-factored preconditioner: the statistic
 * {@code A} and its inverse 4th root.
 *
 * <p>Both methods that change state are all-or-nothing: when the new value would not be finite
 * they return false and keep the previous one, so a bad update can never write NaN.
 */
sealed interface Preconditioner permits Fp32Preconditioner, FourBitPreconditioner {

  /** Preconditioners with fewer elements than this stay float32 in 4-bit Shampoo. */
  int MIN_QUANTIZED_ELEMENTS = 4096;

  /**
   * The preconditioner for one side of one block.
   *
   * @param order the side length n (the statistic is n x n)
   * @param precision the requested storage
   * @param book the eigenvector code book (4-bit only)
   * @param epsilon the initial statistic is {@code epsilon * I}
   * @return float32 when asked for, or when {@code n * n < 4096}; else 4-bit
   */
  static Preconditioner create(
      int order, ShampooPrecision precision, CodeBook book, double epsilon) {
    if (precision == ShampooPrecision.FOUR_BIT
        && (long) order * order >= MIN_QUANTIZED_ELEMENTS) {
      return new FourBitPreconditioner(order, book, epsilon);
    }
    return new Fp32Preconditioner(order, epsilon);
  }

  /**
   * The side length n.
   *
   * @return n
   */
  int order();

  /**
   * {@code A = beta * A + (1 - beta) * gram}.
   *
   * @param gram {@code G G^T} or {@code G^T G} of the block's gradient
   * @param beta the decay
   * @return false when the new statistic would not be finite (then {@code A} is unchanged)
   */
  boolean accumulate(DMatrixRMaj gram, double beta);

  /**
   * Recomputes the inverse root {@code (A + epsilon * max(lambda) * I)^(-1/4)}.
   *
   * @param epsilon the regularization, relative to the largest eigenvalue
   * @return false when the new root would not be finite (then the last good root is kept)
   */
  boolean refreshInverseRoot(double epsilon);

  /**
   * The current inverse root in float32, row-major n x n, for the per-step product. Callers
   * only read it: float32 Shampoo returns its stored array (replaced, never modified, when the
   * root is refreshed or restored), 4-bit Shampoo a freshly dequantized one.
   *
   * @return n * n floats
   */
  float[] inverseRoot();

  /**
   * Bytes held by the statistic (float32 matrix, or eigenvalues plus eigenvector codes and
   * scales).
   *
   * @return the byte count
   */
  long statisticBytes();

  /**
   * Bytes held by the inverse root.
   *
   * @return the byte count
   */
  long inverseRootBytes();

  /**
   * The state as named arrays, for checkpoints.
   *
   * @return the tensors, in a fixed order
   */
  java.util.List<StateArray> state();

  /**
   * Replaces the state with checkpoint arrays, all checked before anything is changed.
   *
   * @param arrays the arrays {@link #state()} wrote, by suffix
   * @throws IllegalArgumentException naming the missing or mis-sized array
   */
  void restore(java.util.Map<String, StateArray> arrays);
}
