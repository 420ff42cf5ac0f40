package dev.lowbit.optim.shampoo;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.lowbit.optim.CheckpointException;
import dev.lowbit.optim.CheckpointReader;
import dev.lowbit.optim.CheckpointWriter;
import dev.lowbit.kernels.MatrixKernels;
import dev.lowbit.optim.ParameterState;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.ejml.data.DMatrixRMaj;

/**
 * Shampoo's state for one parameter: a left and a right {@link Preconditioner} per block of its
 * matrix view (none for tensors of rank at most 1). The base optimizer's state for the same
 * parameter lives in the base optimizer; {@link #bytes()} includes it through
 * {@code baseBytes}.
 *
 * <p>Precision: the statistics (Gram products, eigendecompositions) are computed in double; the
 * per-step product {@code L^(-1/4) G R^(-1/4)} in float32 through
 * {@link MatrixKernels#multiply}, on the stored float32 roots directly.
 */
final class ShampooState implements ParameterState {

  /** Both sides of one block. */
  record BlockState(MatrixLayout.Block block, Preconditioner left, Preconditioner right) {}

  private final String name;
  private final ShampooConfig config;
  private final MatrixLayout layout;
  private final List<BlockState> blocks;
  private final LongSupplier baseBytes;
  private final Runnable onClose;

  ShampooState(
      String name, long[] shape, ShampooConfig config, LongSupplier baseBytes, Runnable onClose) {
    this.name = name;
    this.config = config;
    this.layout = MatrixLayout.of(name, shape, config.maxPreconditionerDim());
    this.baseBytes = baseBytes;
    this.onClose = onClose;
    List<BlockState> list = new ArrayList<>();
    if (layout != null) {
      for (MatrixLayout.Block b : layout.blocks()) {
        list.add(
            new BlockState(
                b,
                Preconditioner.create(
                    b.rows(), config.precision(), config.codeBook(), config.epsilon()),
                Preconditioner.create(
                    b.cols(), config.precision(), config.codeBook(), config.epsilon())));
      }
    }
    this.blocks = List.copyOf(list);
  }

  /** Whether the parameter gets a preconditioner at all. */
  boolean preconditioned() {
    return layout != null;
  }

  List<BlockState> blocks() {
    return blocks;
  }

  /**
   * One step's preconditioning: updates statistics (every T1) and roots (every T2), then returns
   * {@code L^(-1/4) G R^(-1/4)} per block, grafted to the block's gradient norm.
   *
   * @param grad the gradient (already checked to be finite), {@code rows * cols} floats
   * @param t the parameter's step count for this step
   * @param threads threads the products may use (the result does not depend on it)
   * @param failures receives every dropped update
   * @return the preconditioned gradient, a new array
   */
  float[] precondition(
      float[] grad, long t, int threads, Consumer<PreconditionerFailure> failures) {
    boolean updateStatistics = t % config.statisticsInterval() == 0;
    boolean updateRoots = t % config.inverseRootInterval() == 0;
    float[] out = new float[grad.length];
    for (int k = 0; k < blocks.size(); k++) {
      BlockState s = blocks.get(k);
      float[] g = extract(grad, s.block());
      if (updateStatistics) {
        DMatrixRMaj gd = toDouble(g, s.block());
        if (!s.left().accumulate(SpectralMath.gramOfRows(gd), config.beta())) {
          failures.accept(new PreconditionerFailure(name, t, k, "left", "statistic"));
        }
        if (!s.right().accumulate(SpectralMath.gramOfColumns(gd), config.beta())) {
          failures.accept(new PreconditionerFailure(name, t, k, "right", "statistic"));
        }
      }
      if (updateRoots) {
        if (!s.left().refreshInverseRoot(config.epsilon())) {
          failures.accept(new PreconditionerFailure(name, t, k, "left", "inverse root"));
        }
        if (!s.right().refreshInverseRoot(config.epsilon())) {
          failures.accept(new PreconditionerFailure(name, t, k, "right", "inverse root"));
        }
      }
      insert(out, graft(precondition(s, g, threads), g), s.block());
    }
    return out;
  }

  /**
   * {@code (L^(-1/4) G) R^(-1/4)} in float32 with fused multiply-adds (the kernels' matrix
   * product). Float32 suffices here, unlike for the roots: the roots are already rounded to
   * float32 (or 4 bits) when stored, and each product element's rounding error is about
   * {@code n * 2^-24} relative to the sum of its terms' magnitudes, far below the storage error.
   */
  private static float[] precondition(BlockState s, float[] g, int threads) {
    int rows = s.block().rows();
    int cols = s.block().cols();
    float[] lg = new float[rows * cols];
    MatrixKernels.multiply(s.left().inverseRoot(), g, lg, rows, rows, cols, threads);
    float[] lgr = new float[rows * cols];
    MatrixKernels.multiply(lg, s.right().inverseRoot(), lgr, rows, cols, cols, threads);
    return lgr;
  }

  /**
   * Norm grafting: the preconditioned block takes the gradient block's Frobenius norm, so the
   * base optimizer sees Shampoo's direction with the gradient's magnitude. Norms and the scaling
   * are in double. A zero or non-finite result (a float32 product that overflowed, which needs
   * roots and gradients near float32's range) falls back to the gradient itself.
   */
  private static float[] graft(float[] preconditioned, float[] g) {
    double target = normF(g);
    double norm = normF(preconditioned);
    if (!(norm > 0) || !Double.isFinite(norm)) {
      return g;
    }
    double scale = target / norm;
    float[] out = new float[preconditioned.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = (float) (preconditioned[i] * scale);
    }
    return out;
  }

  /** The Frobenius norm, summed in double (exact squares, no overflow for float inputs). */
  private static double normF(float[] values) {
    double sum = 0;
    for (float x : values) {
      sum += (double) x * x;
    }
    return Math.sqrt(sum);
  }

  private float[] extract(float[] grad, MatrixLayout.Block b) {
    float[] g = new float[b.rows() * b.cols()];
    int cols = layout.cols();
    for (int i = 0; i < b.rows(); i++) {
      System.arraycopy(grad, (b.rowStart() + i) * cols + b.colStart(), g, i * b.cols(), b.cols());
    }
    return g;
  }

  /** The block in double, for the statistics (Gram products stay in double, see the class doc). */
  private static DMatrixRMaj toDouble(float[] g, MatrixLayout.Block b) {
    DMatrixRMaj m = new DMatrixRMaj(b.rows(), b.cols());
    for (int i = 0; i < g.length; i++) {
      m.data[i] = g[i];
    }
    return m;
  }

  private void insert(float[] out, float[] g, MatrixLayout.Block b) {
    int cols = layout.cols();
    for (int i = 0; i < b.rows(); i++) {
      System.arraycopy(g, i * b.cols(), out, (b.rowStart() + i) * cols + b.colStart(), b.cols());
    }
  }

  /** Bytes split into statistics, inverse roots and the base optimizer's state. */
  ShampooMemory memory() {
    long statistics = 0;
    long roots = 0;
    for (BlockState s : blocks) {
      statistics += s.left().statisticBytes() + s.right().statisticBytes();
      roots += s.left().inverseRootBytes() + s.right().inverseRootBytes();
    }
    return new ShampooMemory(statistics, roots, baseBytes.getAsLong());
  }

  @Override
  public long bytes() {
    return memory().total();
  }

  @Override
  public String describe() {
    JsonObject o = new JsonObject();
    o.addProperty("precision", config.precision().name());
    o.addProperty("code_book", config.codeBook().name());
    o.addProperty("max_preconditioner_dim", config.maxPreconditionerDim());
    if (layout != null) {
      o.addProperty("rows", layout.rows());
      o.addProperty("cols", layout.cols());
      JsonArray sides = new JsonArray();
      for (BlockState s : blocks) {
        sides.add(kind(s.left()) + "/" + kind(s.right()));
      }
      o.add("blocks", sides);
    }
    return o.toString();
  }

  private static String kind(Preconditioner p) {
    return (p instanceof FourBitPreconditioner ? "4bit-" : "fp32-") + p.order();
  }

  @Override
  public void write(CheckpointWriter out, String keyPrefix) {
    for (int k = 0; k < blocks.size(); k++) {
      BlockState s = blocks.get(k);
      writeSide(out, keyPrefix + "b" + k + ".left.", s.left());
      writeSide(out, keyPrefix + "b" + k + ".right.", s.right());
    }
  }

  private static void writeSide(CheckpointWriter out, String prefix, Preconditioner p) {
    for (StateArray a : p.state()) {
      if (a.floats() != null) {
        out.addFloat32(prefix + a.suffix(), a.shape(), MemorySegment.ofArray(a.floats()));
      } else {
        out.addUint8(prefix + a.suffix(), a.shape(), MemorySegment.ofArray(a.bytes()));
      }
    }
  }

  /**
   * Reads this state's arrays from a checkpoint into this (fresh) state. The description must
   * equal {@link #describe()}: the same precision, code book, block size and layout.
   */
  void read(String description, CheckpointReader in, String keyPrefix)
      throws CheckpointException {
    String expected = describe();
    if (!com.google.gson.JsonParser.parseString(expected)
        .equals(parse(in, keyPrefix, description))) {
      throw new CheckpointException(
          in.file(), "Shampoo state of parameter '" + name + "' was written as " + description
              + ", this optimizer needs " + expected);
    }
    for (int k = 0; k < blocks.size(); k++) {
      BlockState s = blocks.get(k);
      readSide(in, keyPrefix + "b" + k + ".left.", s.left());
      readSide(in, keyPrefix + "b" + k + ".right.", s.right());
    }
  }

  private static com.google.gson.JsonElement parse(
      CheckpointReader in, String keyPrefix, String description) throws CheckpointException {
    try {
      return com.google.gson.JsonParser.parseString(description);
    } catch (RuntimeException e) {
      throw new CheckpointException(
          in.file(), "state description of '" + keyPrefix + "' is not JSON", e);
    }
  }

  private static void readSide(CheckpointReader in, String prefix, Preconditioner p)
      throws CheckpointException {
    Map<String, StateArray> arrays = new LinkedHashMap<>();
    // The fresh state's own arrays give every expected key, dtype and shape.
    for (StateArray template : p.state()) {
      String key = prefix + template.suffix();
      if (template.floats() != null) {
        float[] f = new float[template.floats().length];
        in.readFloat32(key, template.shape(), MemorySegment.ofArray(f));
        // As the core's moments: a state Shampoo could not have written is refused, not used.
        for (int i = 0; i < f.length; i++) {
          if (!Float.isFinite(f[i])) {
            throw new CheckpointException(
                in.file(), "tensor '" + key + "': element " + i + " is not finite");
          }
        }
        arrays.put(template.suffix(), StateArray.ofFloats(template.suffix(), f, template.shape()));
      } else {
        byte[] b = new byte[template.bytes().length];
        in.readUint8(key, template.shape(), MemorySegment.ofArray(b));
        arrays.put(template.suffix(), StateArray.ofBytes(template.suffix(), b));
      }
    }
    try {
      p.restore(arrays);
    } catch (IllegalArgumentException e) {
      throw new CheckpointException(in.file(), prefix + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    onClose.run();
  }
}
