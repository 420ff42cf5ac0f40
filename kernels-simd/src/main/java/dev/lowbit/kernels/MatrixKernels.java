package dev.lowbit.kernels;

import java.lang.System.Logger.Level;

/**
 * Float32 matrix products for callers outside this module (Shampoo's per-step preconditioning):
 * validates once, then runs the Vector API implementation or the scalar reference. Both write
 * the same bytes ({@link MatrixMultiply} defines them), whatever the implementation and thread
 * count.
 *
 * <p>The choice follows {@link Kernels#get()}: the Vector API path exactly when the optimizer
 * kernels chose theirs ({@code jdk.incubator.vector} readable, at least 128-bit vectors, not
 * forced off with {@code -Ddev.lowbit.kernels=scalar}), at the same width
 * ({@code -Ddev.lowbit.kernels.simd.bits} or the preferred one). It is made once, on the first
 * call, and logged at INFO on the logger {@code dev.lowbit.kernels}.
 */
public final class MatrixKernels {

  static final String SIMD_CLASS = "dev.lowbit.kernels.SimdMatrixMultiply";

  /**
   * Multiply-adds below which handing rows to another thread costs more than it saves.
   * Package-private so that tests size their calls from it: a product of {@code n} rows is split
   * only when {@code n} is at least twice {@code MIN_FMAS_PER_TASK / (k * m)} (and 2).
   */
  static final long MIN_FMAS_PER_TASK = 1L << 20;

  private static final MatrixProduct SCALAR =
      new MatrixProduct() {
        @Override
        public void multiplyRows(
            float[] a, float[] b, float[] c, int k, int m, int rowFrom, int rowTo) {
          MatrixMultiply.multiplyRows(a, b, c, k, m, rowFrom, rowTo);
        }

        @Override
        public String name() {
          return "scalar";
        }
      };

  private MatrixKernels() {}

  /**
   * {@code C = A·B} on the caller's thread, all row-major; {@code c} is overwritten.
   *
   * @param a {@code n * k} floats
   * @param b {@code k * m} floats
   * @param c {@code n * m} floats, not the same array as {@code a} or {@code b}
   * @param n rows of A and C
   * @param k columns of A, rows of B
   * @param m columns of B and C
   * @throws IllegalArgumentException if a size is negative, an array is too short, or {@code c}
   *     is {@code a} or {@code b}
   * @throws IllegalStateException if {@code -Ddev.lowbit.kernels} is invalid (see
   *     {@link Kernels#get()})
   */
  public static void multiply(float[] a, float[] b, float[] c, int n, int k, int m) {
    multiply(a, b, c, n, k, m, 1);
  }

  /**
   * {@code C = A·B} with rows of {@code C} split over up to {@code threads} threads (the
   * kernels' worker pool); each element is computed by one thread, so the result does not
   * depend on {@code threads}.
   *
   * @param a {@code n * k} floats
   * @param b {@code k * m} floats
   * @param c {@code n * m} floats, not the same array as {@code a} or {@code b}
   * @param n rows of A and C
   * @param k columns of A, rows of B
   * @param m columns of B and C
   * @param threads threads to use, 1 or more
   * @throws IllegalArgumentException if a size is negative, an array is too short, {@code c} is
   *     {@code a} or {@code b}, or {@code threads < 1}
   * @throws IllegalStateException if {@code -Ddev.lowbit.kernels} is invalid (see
   *     {@link Kernels#get()})
   */
  public static void multiply(
      float[] a, float[] b, float[] c, int n, int k, int m, int threads) {
    MatrixMultiply.checkArguments(a, b, c, n, k, m);
    multiplyRows(product(), a, b, c, n, k, m, threads);
  }

  /**
   * Runs {@code product} over the rows of {@code C}, split over threads as {@link #multiply}
   * does; the arguments are already checked. Separate so that a test can see the ranges.
   */
  static void multiplyRows(
      MatrixProduct product, float[] a, float[] b, float[] c, int n, int k, int m, int threads) {
    long fmasPerRow = Math.max(1L, (long) k * m);
    long minRows = Math.max(1L, MIN_FMAS_PER_TASK / fmasPerRow);
    KernelPool.split(
        n, minRows, threads,
        (from, to) -> product.multiplyRows(a, b, c, k, m, (int) from, (int) to));
  }

  /**
   * The implementation in use, chosen on the first call.
   *
   * @return {@code scalar} or {@code simd-<bits>}
   * @throws IllegalStateException if {@code -Ddev.lowbit.kernels} is invalid
   */
  public static String implementation() {
    return product().name();
  }

  /**
   * The chosen product. {@link Kernels#get()} comes first, so that an invalid
   * {@code -Ddev.lowbit.kernels} is its IllegalStateException on every call, not a failed
   * initialization of the holder (ExceptionInInitializerError, then NoClassDefFoundError).
   */
  private static MatrixProduct product() {
    Kernels.get();
    return Holder.PRODUCT;
  }

  /** Static holder: the choice runs once, on first use. */
  private static final class Holder {
    static final MatrixProduct PRODUCT =
        choose(Kernels.get(), System.getLogger("dev.lowbit.kernels"));
  }

  /**
   * The selection rule, apart from the JVM state it reads (so that tests can exercise it).
   *
   * @param optimizerKernels the optimizer kernels in use ({@link Kernels#get()})
   * @param log where the one INFO line (or the WARNING of a fallback) goes
   * @return the scalar product when the optimizer kernels are the scalar ones, else the Vector
   *     API product (the scalar one if it cannot be created)
   */
  static MatrixProduct choose(OptimizerKernels optimizerKernels, System.Logger log) {
    if (optimizerKernels == Kernels.scalar()) {
      log.log(Level.INFO, "matrix kernels: scalar (as the optimizer kernels)");
      return SCALAR;
    }
    try {
      // By name, so that this class loads without the incubator module.
      Class<?> impl = Class.forName(SIMD_CLASS, true, MatrixKernels.class.getClassLoader());
      MatrixProduct simd = (MatrixProduct) impl.getConstructor().newInstance();
      log.log(Level.INFO, "matrix kernels: " + simd.name() + " (Vector API)");
      return simd;
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      // Kernels already found the Vector API usable, so this is unexpected; stay correct.
      log.log(Level.WARNING, "matrix kernels: falling back to scalar: " + e);
      return SCALAR;
    }
  }
}
