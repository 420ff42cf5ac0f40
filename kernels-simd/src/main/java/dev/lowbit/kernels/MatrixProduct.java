package dev.lowbit.kernels;

/** A matrix-product implementation as {@link MatrixKernels} drives it: one range of rows. */
interface MatrixProduct {

  /**
   * Rows {@code [rowFrom, rowTo)} of {@code C = A·B} (row-major, {@code A} has {@code k} columns,
   * {@code B} and {@code C} have {@code m}); arguments already checked.
   */
  void multiplyRows(float[] a, float[] b, float[] c, int k, int m, int rowFrom, int rowTo);

  /** The implementation's name for logs and benchmarks, such as {@code simd-512}. */
  String name();
}
