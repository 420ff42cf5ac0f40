package dev.lowbit.bench.speed;

import dev.lowbit.kernels.Kernels;
import dev.lowbit.kernels.OptimizerKernels;
import java.util.Optional;

/** The kernel implementations a measurement can ask for explicitly. */
public enum Implementation {
  /** The scalar reference. */
  SCALAR,
  /** The Vector API kernels, when they can run here. */
  SIMD;

  /**
   * The kernels of this implementation, if available in this JVM.
   *
   * @return the kernels, or empty for SIMD without the Vector API
   */
  public Optional<OptimizerKernels> kernels() {
    return this == SCALAR ? Optional.of(Kernels.scalar()) : Kernels.simd();
  }
}
