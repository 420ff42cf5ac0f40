package dev.lowbit.optim.shampoo;

import dev.lowbit.quant.CodeBook;
import java.util.List;
import java.util.Map;
import org.ejml.data.DMatrixRMaj;

/**
 * 4-bit Shampoo's preconditioner side ("4-bit Shampoo for Memory-Efficient Network Training").
 *
 * <p>The statistic is kept as {@code A = U diag(lambda) U^T}: eigenvalues in float32,
 * eigenvectors U in 4 bits (one eigenvector per row of {@link QuantizedRows}, blocks of 64). The
 * inverse root is a float32 diagonal plus a 4-bit off-diagonal (blocks of 64 along each row).
 * <pre>
 * accumulate (every T1):  V = dequantize(U); V = 1.5 V - 0.5 V V^T V      (1 Björck iteration)
 *                         A = beta V diag(lambda) V^T + (1 - beta) gram
 *                         P = QR(A V); lambda = diag(P^T A P); U = quantize(P)
 * inverse root (every T2): V = dequantize(U), 4 Björck iterations;
 *                         A^(-1/4) = V diag((lambda + epsilon max(lambda))^(-1/4)) V^T
 * </pre>
 */
final class FourBitPreconditioner implements Preconditioner {

  /** Björck iterations applied to the dequantized eigenvectors before each statistic update. */
  static final int UPDATE_RECTIFICATIONS = 1;

  /** Björck iterations applied before each inverse root. */
  static final int ROOT_RECTIFICATIONS = 4;

  private final int order;
  private final CodeBook book;
  private float[] eigenvalues;
  private QuantizedRows eigenvectors;
  private float[] rootDiagonal;
  private QuantizedRows rootOffDiagonal;

  /** Statistic {@code epsilon * I} (eigenvalues epsilon, eigenvectors I), root {@code I}. */
  FourBitPreconditioner(int order, CodeBook book, double epsilon) {
    this.order = order;
    this.book = book;
    this.eigenvalues = new float[order];
    java.util.Arrays.fill(eigenvalues, (float) epsilon);
    DMatrixRMaj identity = org.ejml.dense.row.CommonOps_DDRM.identity(order);
    this.eigenvectors = QuantizedRows.quantizeColumns(book, identity);
    this.rootDiagonal = new float[order];
    java.util.Arrays.fill(rootDiagonal, 1f);
    this.rootOffDiagonal = QuantizedRows.quantize(book, new DMatrixRMaj(order, order));
  }

  @Override
  public int order() {
    return order;
  }

  @Override
  public boolean accumulate(DMatrixRMaj gram, double beta) {
    DMatrixRMaj v = eigenvectors.dequantizeColumns();
    SpectralMath.bjorck(v, UPDATE_RECTIFICATIONS);
    DMatrixRMaj a = SpectralMath.compose(v, toDouble(eigenvalues));
    org.ejml.dense.row.CommonOps_DDRM.add(beta, a, 1 - beta, gram, a);
    SpectralMath.Eigen step = SpectralMath.subspaceStep(a, v);
    if (step == null) {
      return false;
    }
    float[] values = new float[order];
    for (int k = 0; k < order; k++) {
      values[k] = (float) step.values()[k];
      if (!Float.isFinite(values[k])) {
        return false;
      }
    }
    eigenvectors = QuantizedRows.quantizeColumns(book, step.vectors());
    eigenvalues = values;
    return true;
  }

  @Override
  public boolean refreshInverseRoot(double epsilon) {
    DMatrixRMaj v = eigenvectors.dequantizeColumns();
    SpectralMath.bjorck(v, ROOT_RECTIFICATIONS);
    DMatrixRMaj root = SpectralMath.inverseFourthRoot(v, toDouble(eigenvalues), epsilon);
    if (root == null) {
      return false;
    }
    float[] diagonal = new float[order];
    for (int i = 0; i < order; i++) {
      diagonal[i] = (float) root.unsafe_get(i, i);
      if (!Float.isFinite(diagonal[i])) {
        return false;
      }
      root.unsafe_set(i, i, 0.0);
    }
    rootOffDiagonal = QuantizedRows.quantize(book, root);
    rootDiagonal = diagonal;
    return true;
  }

  /**
   * Dequantized at every step rather than cached: a float32 copy would cost {@code 4n²} bytes,
   * more than the 32-bit root this format exists to avoid, while dequantizing is O(n²) against
   * the product's O(n³).
   */
  @Override
  public float[] inverseRoot() {
    float[] root = rootOffDiagonal.dequantizeFloats();
    for (int i = 0; i < order; i++) {
      root[i * order + i] = rootDiagonal[i];
    }
    return root;
  }

  /** The statistic {@code V diag(lambda) V^T} from the dequantized eigenvectors (for tests). */
  DMatrixRMaj statistic() {
    return SpectralMath.compose(eigenvectors.dequantizeColumns(), toDouble(eigenvalues));
  }

  @Override
  public long statisticBytes() {
    return 4L * eigenvalues.length + eigenvectors.bytes();
  }

  @Override
  public long inverseRootBytes() {
    return 4L * rootDiagonal.length + rootOffDiagonal.bytes();
  }

  @Override
  public List<StateArray> state() {
    return List.of(
        StateArray.ofFloats("eigenvalues", eigenvalues, order),
        codesOf("eigenvectors", eigenvectors),
        scalesOf("eigenvectors", eigenvectors),
        StateArray.ofFloats("root.diagonal", rootDiagonal, order),
        codesOf("root", rootOffDiagonal),
        scalesOf("root", rootOffDiagonal));
  }

  @Override
  public void restore(Map<String, StateArray> arrays) {
    float[] values = Fp32Preconditioner.required(arrays, "eigenvalues").floats(order);
    QuantizedRows vectors = rowsFrom(arrays, "eigenvectors");
    float[] diagonal = Fp32Preconditioner.required(arrays, "root.diagonal").floats(order);
    QuantizedRows off = rowsFrom(arrays, "root");
    eigenvalues = values;
    eigenvectors = vectors;
    rootDiagonal = diagonal;
    rootOffDiagonal = off;
  }

  /** The codes of quantized rows, saved as {@code <prefix>.codes}. */
  private static StateArray codesOf(String prefix, QuantizedRows rows) {
    return StateArray.ofBytes(prefix + ".codes", rows.codes());
  }

  /** The scales of quantized rows, saved as {@code <prefix>.scales}. */
  private static StateArray scalesOf(String prefix, QuantizedRows rows) {
    return StateArray.ofFloats(prefix + ".scales", rows.scales(), rows.scales().length);
  }

  /** Reads what {@link #codesOf} and {@link #scalesOf} saved, checking both sizes. */
  private QuantizedRows rowsFrom(Map<String, StateArray> arrays, String prefix) {
    return QuantizedRows.of(
        book,
        order,
        Fp32Preconditioner.required(arrays, prefix + ".codes")
            .bytes(QuantizedRows.codeBytes(book, order)),
        Fp32Preconditioner.required(arrays, prefix + ".scales")
            .floats(QuantizedRows.scaleCount(order)));
  }

  private static double[] toDouble(float[] values) {
    double[] d = new double[values.length];
    for (int i = 0; i < d.length; i++) {
      d[i] = values[i];
    }
    return d;
  }
}
