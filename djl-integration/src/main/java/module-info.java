/** Drop-in {@code ai.djl.training.optimizer.Optimizer} subclasses backed by LowBit. */
module dev.lowbit.djl {
  requires transitive dev.lowbit.optim;
  requires transitive ai.djl.api;

  exports dev.lowbit.djl;
}
