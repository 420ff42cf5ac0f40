package dev.lowbit.optim.shampoo;

/**
 * State bytes of a Shampoo optimizer, split by what holds them.
 *
 * @param preconditioners the statistics L and R (float32 matrices, or eigenvalues plus 4-bit
 *     eigenvector codes and scales)
 * @param inverseRoots their inverse 4th roots (float32 matrices, or a float32 diagonal plus a
 *     4-bit off-diagonal)
 * @param base the base optimizer's state (momentum, or Adam's m and v)
 */
public record ShampooMemory(long preconditioners, long inverseRoots, long base) {

  /**
   * All three together.
   *
   * @return the total bytes
   */
  public long total() {
    return preconditioners + inverseRoots + base;
  }

  ShampooMemory plus(ShampooMemory o) {
    return new ShampooMemory(
        preconditioners + o.preconditioners, inverseRoots + o.inverseRoots, base + o.base);
  }
}
