package dev.lowbit.bench.shampoo;

import com.google.gson.GsonBuilder;
import dev.lowbit.optim.shampoo.InverseRootErrors;
import dev.lowbit.quant.CodeBook;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The paper's Table 1 ("4-bit Shampoo for Memory-Efficient Network Training"): the normalized
 * error {@code ||g(A) - A^(-1/4)||_F / ||A^(-1/4)||_F} of the inverse 4th root computed from a
 * 4-bit A, from 4-bit eigenvectors U, and from 4-bit U after 4 Björck rectifications, with the
 * linear-square and the DE code books, on two SPD matrices of order 1200:
 *
 * <ul>
 *   <li><b>synthetic</b>: {@link InverseRootErrors#syntheticSpd} (random rotation, eigenvalues
 *       {@code 10^(-6u)}), seed 1200;
 *   <li><b>real</b>: the left Shampoo statistic {@code L = beta L + (1 - beta) G G^T}
 *       (beta = 0.95, T1 = 5: updated at every 5th step, starting from {@code 1e-6 I}) of the
 *       1200 x 64 first layer of a 64 -> 1200 (tanh) -> 10 MLP, over 200 steps of float32 AdamW
 *       (lr 1e-3, batches of 64 fresh Gaussian inputs) regressing a random teacher network of
 *       the same shape.
 * </ul>
 * Every root uses {@code lambda + 1e-6 * max(lambda)} (Shampoo's default epsilon).
 */
public final class ShampooErrorTable {

  /** Order of both matrices, as in the paper. */
  public static final int ORDER = 1200;

  /** Shampoo's default epsilon, used for every root. */
  public static final double EPSILON = 1e-6;

  private ShampooErrorTable() {}

  /**
   * One row of the table.
   *
   * @param matrix {@code "synthetic"} or {@code "real"}
   * @param codeBook the code book's name
   * @param quantizedMatrix NRE with A in 4 bits
   * @param quantizedEigenvectors NRE with U in 4 bits
   * @param rectifiedEigenvectors NRE with U in 4 bits and 4 Björck iterations
   */
  public record Entry(
      String matrix,
      String codeBook,
      double quantizedMatrix,
      double quantizedEigenvectors,
      double rectifiedEigenvectors) {}

  /**
   * Computes the table (about a minute of CPU time, on two threads).
   *
   * @return four rows: synthetic and real, each with the linear-square and the DE book
   */
  public static List<Entry> compute() {
    return compute(ORDER);
  }

  /** The largest order whose {@code order * order} values fit a Java array. */
  static final int MAX_ORDER = 46_340;

  /**
   * The same table for matrices of another order (the tests take a small one): the synthetic
   * matrix with seed {@code order}, the real one from a layer {@code order} wide.
   *
   * @param order the order of both matrices
   * @return four rows, as {@link #compute()}
   * @throws IllegalArgumentException if {@code order} is not in [1, {@value #MAX_ORDER}]
   */
  static List<Entry> compute(int order) {
    checkOrder(order);
    // The two matrices are independent: the synthetic one is measured on a second thread while
    // this one trains the MLP, which keeps the command near half a minute on two free cores.
    ExecutorService worker = Executors.newSingleThreadExecutor();
    try {
      Future<List<Entry>> synthetic =
          worker.submit(
              () -> rows("synthetic", InverseRootErrors.syntheticSpd(order, order), order));
      List<Entry> real = rows("real", TrainingStatistic.of(order), order);
      List<Entry> entries = new ArrayList<>(synthetic.get());
      entries.addAll(real);
      return List.copyOf(entries);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while computing the Shampoo error table", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("the synthetic half of the table failed", e.getCause());
    } finally {
      worker.shutdownNow();
    }
  }

  /** Refuses an order whose matrices cannot be held (apart, so the largest one is testable). */
  static void checkOrder(int order) {
    if (order < 1 || order > MAX_ORDER) {
      throw new IllegalArgumentException(
          "order must be in [1, " + MAX_ORDER + "] (order * order values fit an array), got "
              + order);
    }
  }

  private static List<Entry> rows(String matrix, double[] a, int order) {
    List<CodeBook> books = List.of(CodeBook.LINEAR_SQUARE_SIGNED_4, CodeBook.DE_SIGNED_4);
    List<Entry> entries = new ArrayList<>();
    for (InverseRootErrors.Row r : InverseRootErrors.measure(a, order, books, EPSILON)) {
      entries.add(
          new Entry(
              matrix, r.codeBook(), r.quantizedMatrix(), r.quantizedEigenvectors(),
              r.rectifiedEigenvectors()));
    }
    return entries;
  }

  /**
   * Prints the table as aligned plain text with the paper's figures, or as one JSON object.
   *
   * @param entries what {@link #compute()} returned
   * @param out where to print
   * @param json true for JSON
   */
  public static void print(List<Entry> entries, PrintWriter out, boolean json) {
    if (json) {
      Map<String, Object> o = new LinkedHashMap<>();
      o.put("order", ORDER);
      o.put("epsilon", EPSILON);
      o.put("metric", "normalized Frobenius error of A^(-1/4)");
      o.put("paper_linear_square", Map.of(
          "quantized_matrix", 0.62, "quantized_eigenvectors", 0.054,
          "rectified_eigenvectors", 0.034));
      List<Map<String, Object>> rows = new ArrayList<>();
      for (Entry e : entries) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("matrix", e.matrix());
        r.put("code_book", e.codeBook());
        r.put("quantized_matrix", e.quantizedMatrix());
        r.put("quantized_eigenvectors", e.quantizedEigenvectors());
        r.put("rectified_eigenvectors", e.rectifiedEigenvectors());
        rows.add(r);
      }
      o.put("rows", rows);
      out.println(new GsonBuilder().disableHtmlEscaping().setPrettyPrinting().create().toJson(o));
      return;
    }
    // Locale.ROOT, as every command: a German default would print 0,5000.
    out.printf(Locale.ROOT, "Normalized error of A^(-1/4), order %d, epsilon %.0e%n",
        ORDER, EPSILON);
    out.printf(Locale.ROOT, "%-10s %-24s %10s %10s %14s%n",
        "matrix", "code book", "4-bit A", "4-bit U", "4-bit U+rect");
    for (Entry e : entries) {
      out.printf(Locale.ROOT, "%-10s %-24s %10.4f %10.4f %14.4f%n", e.matrix(), e.codeBook(),
          e.quantizedMatrix(), e.quantizedEigenvectors(), e.rectifiedEigenvectors());
    }
    out.printf(Locale.ROOT, "%-10s %-24s %10.4f %10.4f %14.4f%n",
        "paper", "linear-square-signed-4", 0.62, 0.054, 0.034);
  }

  /**
   * Computes and prints the table: what {@code lowbit quant-error --shampoo} runs.
   *
   * @param out where to print (not flushed: the caller flushes)
   * @param json true for JSON
   * @return 0 when every row ranks 4-bit A worst and rectified 4-bit U best, else 1
   */
  public static int run(PrintWriter out, boolean json) {
    List<Entry> entries = compute();
    print(entries, out, json);
    return ordered(entries) ? 0 : 1;
  }

  /**
   * Whether every row ranks as the paper's does: 4-bit A worst, rectified 4-bit U best.
   *
   * @param entries the table's rows
   * @return true when each row's errors strictly decrease from A to U to rectified U
   */
  public static boolean ordered(List<Entry> entries) {
    boolean ordered = true;
    for (Entry e : entries) {
      ordered &= e.quantizedMatrix() > e.quantizedEigenvectors()
          && e.quantizedEigenvectors() > e.rectifiedEigenvectors();
    }
    return ordered;
  }

  /**
   * Standalone entry point: {@code java ... dev.lowbit.bench.shampoo.ShampooErrorTable [--json]}.
   *
   * @param args {@code --json} for JSON output
   */
  public static void main(String[] args) {
    boolean json = args.length > 0 && args[0].equals("--json");
    PrintWriter out = new PrintWriter(System.out);
    int status = run(out, json);
    out.flush();
    System.exit(status);
  }
}
