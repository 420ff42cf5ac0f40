/**
 * LowBit's optimizers as {@code ai.djl.training.optimizer.Optimizer} subclasses: change the
 * import and the builder, keep the training code.
 */
package dev.lowbit.djl;
