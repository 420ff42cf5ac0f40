package dev.lowbit.kernels;

import java.lang.foreign.MemorySegment;

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
 * @param batch number of matrices (product of the dimensions before the last two; 1 for a matrix)
 * @param rows rows of each matrix (second-to-last dimension)
 * @param cols columns of each matrix (last dimension)
 * @param rowStats {@code batch * rows} floats
 * @param colStats {@code batch * cols} floats
 */
public record FactorizedMoment(
    long batch, long rows, long cols, MemorySegment rowStats, MemorySegment colStats)
    implements MomentState {}
