package dev.lowbit.optim.shampoo;

import java.util.List;
import java.util.Map;
import org.ejml.data.DMatrixRMaj;

/**
 * 32-bit Shampoo's preconditioner side: the statistic and its inverse root as float32 n x n
 * matrices. Roots come from an exact symmetric eigendecomposition in double.
 */
final class Fp32Preconditioner implements Preconditioner {

  private final int order;
  private float[] statistic;
  private float[] root;

  /** Statistic {@code epsilon * I}, root {@code I}. */
  Fp32Preconditioner(int order, double epsilon) {
    this.order = order;
    this.statistic = new float[order * order];
    this.root = new float[order * order];
    for (int i = 0; i < order; i++) {
      statistic[i * order + i] = (float) epsilon;
      root[i * order + i] = 1f;
    }
  }

  @Override
  public int order() {
    return order;
  }

  @Override
  public boolean accumulate(DMatrixRMaj gram, double beta) {
    float[] next = new float[statistic.length];
    for (int i = 0; i < next.length; i++) {
      next[i] = (float) (beta * statistic[i] + (1 - beta) * gram.data[i]);
      if (!Float.isFinite(next[i])) {
        return false;
      }
    }
    statistic = next;
    return true;
  }

  @Override
  public boolean refreshInverseRoot(double epsilon) {
    SpectralMath.Eigen eigen = SpectralMath.symmetricEigen(toDouble(statistic));
    if (eigen == null) {
      return false;
    }
    DMatrixRMaj next = SpectralMath.inverseFourthRoot(eigen.vectors(), eigen.values(), epsilon);
    if (next == null) {
      return false;
    }
    float[] stored = toFloat(next);
    if (stored == null) {
      return false;
    }
    root = stored;
    return true;
  }

  @Override
  public float[] inverseRoot() {
    return root;
  }

  @Override
  public long statisticBytes() {
    return 4L * statistic.length;
  }

  @Override
  public long inverseRootBytes() {
    return 4L * root.length;
  }

  @Override
  public List<StateArray> state() {
    return List.of(
        StateArray.ofFloats("statistic", statistic, order, order),
        StateArray.ofFloats("root", root, order, order));
  }

  @Override
  public void restore(Map<String, StateArray> arrays) {
    float[] s = required(arrays, "statistic").floats(order * order);
    float[] r = required(arrays, "root").floats(order * order);
    statistic = s;
    root = r;
  }

  static StateArray required(Map<String, StateArray> arrays, String suffix) {
    StateArray a = arrays.get(suffix);
    if (a == null) {
      throw new IllegalArgumentException("missing state array '" + suffix + "'");
    }
    return a;
  }

  private DMatrixRMaj toDouble(float[] values) {
    DMatrixRMaj m = new DMatrixRMaj(order, order);
    for (int i = 0; i < values.length; i++) {
      m.data[i] = values[i];
    }
    return m;
  }

  /** The matrix rounded to float32, or null if a value overflows. */
  static float[] toFloat(DMatrixRMaj m) {
    float[] f = new float[m.getNumElements()];
    for (int i = 0; i < f.length; i++) {
      f[i] = (float) m.data[i];
      if (!Float.isFinite(f[i])) {
        return null;
      }
    }
    return f;
  }
}
