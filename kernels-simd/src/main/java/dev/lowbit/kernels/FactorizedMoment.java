package dev.lowbit.kernels;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * A second moment kept factorized, Adafactor-style, for a tensor viewed as {@code batch}
 * matrices of {@code rows x cols} (row-major, matrix {@code b} starting at flat index
 * {@code b * rows * cols}). Only float32 row and column running averages of {@code g^2} are
 * stored:
 *
 * <pre>
 * R[b,i] = beta2 * R[b,i] + (1 - beta2) * mean_j g[b,i,j]^2
 * C[b,j] = beta2 * C[b,j] + (1 - beta2) * mean_i g[b,i,j]^2
 * v[b,i,j] = R[b,i] * C[b,j] / mean_i R[b,i]        (0 when mean_i R[b,i] is 0)
 * </pre>
 *
 * <p>Exactly, with {@code g} the transformed gradient of {@link AdamScalars} (after gradScale,
 * clip and l2Decay) and squares taken in double ({@code (double) g * (double) g}): the row sum of
 * row {@code (b, i)} is summed in the order of {@link OptimizerKernels#sumOfSquares} applied to
 * that row alone; the column sum of {@code (b, j)} is {@code 0.0 + g[b,0,j]^2 + g[b,1,j]^2 + ...}
 * (rows in increasing order); then, in float, {@code R = beta2 * R + (1 - beta2) * (float)
 * (rowSum / cols)} and {@code C = beta2 * C + (1 - beta2) * (float) (colSum / rows)}; then
 * {@code meanR = (float) ((0.0 + R[b,0] + R[b,1] + ...) / rows)} over the new R, and per element
 * {@code v = (R[b,i] * C[b,j]) / meanR} in float. This v replaces Adam's running v in the update
 * (no {@code beta2} blend per element); nothing per element is stored.
 *
 * @param batch number of matrices (product of the dimensions before the last two; 1 for a matrix)
 * @param rows rows of each matrix (second-to-last dimension)
 * @param cols columns of each matrix (last dimension)
 * @param rowStats {@code batch * rows} floats
 * @param colStats {@code batch * cols} floats
 */
public record FactorizedMoment(
    long batch, long rows, long cols, MemorySegment rowStats, MemorySegment colStats)
    implements MomentState {

  /**
   * Checks the dimensions and that no component is null. The segment sizes are checked by the
   * optimizer that owns them.
   *
   * @param batch number of matrices, {@code >= 0}
   * @param rows rows of each matrix, {@code >= 0}
   * @param cols columns of each matrix, {@code >= 0}
   * @param rowStats the row statistics
   * @param colStats the column statistics
   * @throws IllegalArgumentException if a dimension is negative or {@code batch * rows * cols}
   *     overflows a long
   */
  public FactorizedMoment {
    Objects.requireNonNull(rowStats, "rowStats");
    Objects.requireNonNull(colStats, "colStats");
    Dimensions.check(new String[] {"batch", "rows", "cols"}, batch, rows, cols);
  }
}
