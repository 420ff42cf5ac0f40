/**
 * Framework-free optimizers with 32-, 8- and 4-bit states, on plain Java arrays or native
 * memory.
 */
module dev.lowbit.optim {
  requires transitive dev.lowbit.kernels;
  requires transitive dev.lowbit.quant;
  requires com.google.gson;
  requires ejml.core;
  requires ejml.ddense;

  exports dev.lowbit.optim;
  exports dev.lowbit.optim.shampoo;
}
