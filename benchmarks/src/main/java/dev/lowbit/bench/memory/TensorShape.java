package dev.lowbit.bench.memory;

import java.util.Arrays;

/**
 * One trainable tensor of a model: its name and sizes.
 *
 * @param name the parameter's name
 * @param dims the sizes, outermost first; each positive
 */
public record TensorShape(String name, long[] dims) {

  /** Copies the sizes. */
  public TensorShape {
    dims = dims.clone();
  }

  /**
   * The sizes.
   *
   * @return a copy of the sizes
   */
  @Override
  public long[] dims() {
    return dims.clone();
  }

  /**
   * Number of elements.
   *
   * @return the product of the sizes
   */
  public long elements() {
    long n = 1;
    for (long d : dims) {
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorShape t && t.name.equals(name) && Arrays.equals(t.dims, dims);
  }

  @Override
  public int hashCode() {
    return name.hashCode() * 31 + Arrays.hashCode(dims);
  }

  @Override
  public String toString() {
    StringBuilder s = new StringBuilder(name).append(' ');
    for (int i = 0; i < dims.length; i++) {
      s.append(i == 0 ? "" : "x").append(dims[i]);
    }
    return s.toString();
  }
}
