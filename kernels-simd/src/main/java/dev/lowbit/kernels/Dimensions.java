package dev.lowbit.kernels;

/** The dimension check the moment records share. */
final class Dimensions {

  private Dimensions() {}

  /**
   * Fails unless every dimension is {@code >= 0} and their product fits a long.
   *
   * @param names the dimensions' names, for the message
   * @param dims the dimensions, in the order of {@code names}
   * @return their product
   * @throws IllegalArgumentException naming the first negative dimension, or the overflow
   */
  static long check(String[] names, long... dims) {
    for (int i = 0; i < dims.length; i++) {
      if (dims[i] < 0) {
        throw new IllegalArgumentException(names[i] + " must be >= 0, got " + dims[i]);
      }
    }
    long product = 1;
    try {
      for (long d : dims) {
        product = Math.multiplyExact(product, d);
      }
    } catch (ArithmeticException e) {
      StringBuilder values = new StringBuilder();
      for (long d : dims) {
        values.append(values.isEmpty() ? "" : " * ").append(d);
      }
      throw new IllegalArgumentException(
          String.join(" * ", names) + " overflows a long: " + values, e);
    }
    return product;
  }
}
