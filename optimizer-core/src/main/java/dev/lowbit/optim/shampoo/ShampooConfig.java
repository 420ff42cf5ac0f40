package dev.lowbit.optim.shampoo;

import dev.lowbit.quant.CodeBook;

/**
 * Shampoo's own hyperparameters, validated by {@link Shampoo.Builder}.
 *
 * @param statisticsInterval T1: statistics are updated when {@code t % T1 == 0}
 * @param inverseRootInterval T2: inverse roots are recomputed when {@code t % T2 == 0}
 * @param beta the statistics' decay
 * @param epsilon the root's regularization, relative to the largest eigenvalue; also the
 *     initial statistic {@code epsilon * I}
 * @param maxPreconditionerDim the largest preconditioner order (block size)
 * @param precision float32 or 4-bit preconditioners
 * @param codeBook the 4-bit code book for eigenvectors and root off-diagonals
 */
record ShampooConfig(
    int statisticsInterval,
    int inverseRootInterval,
    double beta,
    double epsilon,
    int maxPreconditionerDim,
    ShampooPrecision precision,
    CodeBook codeBook) {}
