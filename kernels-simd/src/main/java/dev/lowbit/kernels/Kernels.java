package dev.lowbit.kernels;

/**
 * Chooses the kernel implementation once, at first use (after Lucene's vectorization provider).
 *
 * <p>TODO(kernels issue): the Vector API implementation and the selection logic. Until then the
 * scalar reference is always used.
 */
public final class Kernels {

  private Kernels() {}

  /**
   * The active implementation.
   *
   * @return the kernels every optimizer uses
   */
  public static OptimizerKernels get() {
    throw new UnsupportedOperationException("kernels: not implemented yet");
  }
}
