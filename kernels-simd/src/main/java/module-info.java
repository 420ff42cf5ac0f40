/**
 * Fused optimizer-step kernels. A scalar implementation is always present; a Vector API one is
 * used when {@code jdk.incubator.vector} is readable (run with
 * {@code --add-modules jdk.incubator.vector}).
 */
module dev.lowbit.kernels {
  requires transitive dev.lowbit.quant;
  requires static jdk.incubator.vector;

  exports dev.lowbit.kernels;
}
