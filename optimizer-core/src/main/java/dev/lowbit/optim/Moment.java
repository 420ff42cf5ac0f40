package dev.lowbit.optim;

import com.google.gson.JsonObject;
import dev.lowbit.kernels.BlockwiseMoment;
import dev.lowbit.kernels.FactorizedMoment;
import dev.lowbit.kernels.Fp32Moment;
import dev.lowbit.kernels.MomentState;
import dev.lowbit.kernels.Rank1Moment;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * One allocated moment of one parameter (Adam's m or v, SGD's buffer): the segments holding it,
 * the kernel's view of them, and the names its tensors get in a checkpoint.
 *
 * <p>Rank-1 state of a tensor of rank k above 2 keeps one max vector per dimension (the max over
 * all other dimensions). The kernel sees a (product of the leading dims) x (last dim) matrix:
 * {@link #beginStep()} derives the per-row scales (min over the leading dims' vectors) into a
 * workspace that lives only for that step and passes the leading dims, so that the kernel encodes
 * with the new scales of the same rule ({@link Rank1Moment}), and {@link #endStep(MomentState)}
 * folds the returned row scales back into those vectors. The workspace is not state: it is not
 * kept between steps, not counted in {@link #bytes()} and not checkpointed.
 */
final class Moment {

  /** One stored tensor of the moment: key suffix, safetensors dtype, shape, memory. */
  record Part(String suffix, String dtype, long[] shape, MemorySegment segment) {}

  final StateFormat format;

  /**
   * The kernels' view of the stored state. For rank-1 state of a tensor above rank 2 its row
   * scales are an empty placeholder (they are per-step workspace), so a kernel call must use the
   * view {@link #beginStep()} returns instead.
   */
  final MomentState view;

  final List<Part> parts;
  private final long[] shape;

  /** Rank above 2 only (else null): the per-dimension max vectors the row scales derive from. */
  private final MemorySegment[] dimScales;

  private Moment(
      StateFormat format, MomentState view, List<Part> parts, long[] shape,
      MemorySegment[] dimScales) {
    this.format = format;
    this.view = view;
    this.parts = parts;
    this.shape = shape;
    this.dimScales = dimScales;
  }

  /**
   * Allocates a zeroed moment (all scales 0, so everything decodes to 0).
   *
   * @param format the resolved format (see {@link StateFormat#resolve(long[])})
   * @param shape the parameter's shape
   * @param length the parameter's element count
   * @param arena where the memory comes from
   */
  static Moment allocate(StateFormat format, long[] shape, long length, Arena arena) {
    List<Part> parts = new ArrayList<>();
    switch (format.normalization()) {
      case FLOAT32 -> {
        MemorySegment values = floats(arena, length);
        parts.add(new Part("", "F32", shape.clone(), values));
        return new Moment(format, new Fp32Moment(values), parts, shape, null);
      }
      case BLOCKWISE -> {
        MemorySegment codes = codes(arena, format, length);
        long blocks = (length + format.blockSize() - 1) / format.blockSize();
        MemorySegment scales = floats(arena, blocks);
        parts.add(new Part(".codes", "U8", new long[] {codes.byteSize()}, codes));
        parts.add(new Part(".scales", "F32", new long[] {blocks}, scales));
        return new Moment(
            format, new BlockwiseMoment(format.book(), format.blockSize(), codes, scales), parts,
            shape, null);
      }
      case RANK1 -> {
        int k = shape.length;
        MemorySegment codes = codes(arena, format, length);
        parts.add(new Part(".codes", "U8", new long[] {codes.byteSize()}, codes));
        MemorySegment[] dims = new MemorySegment[k];
        for (int d = 0; d < k; d++) {
          dims[d] = floats(arena, shape[d]);
          parts.add(new Part(".scales." + d, "F32", new long[] {shape[d]}, dims[d]));
        }
        long cols = shape[k - 1];
        long rows = cols == 0 ? product(shape, 0, k - 1) : length / cols;
        // Above rank 2 the row scales are per-step workspace (see beginStep), not state.
        MemorySegment rowScales = k > 2 ? MemorySegment.NULL : dims[0];
        return new Moment(
            format, new Rank1Moment(format.book(), rows, cols, codes, rowScales, dims[k - 1]),
            parts, shape, k > 2 ? dims : null);
      }
      case FACTORIZED -> {
        int k = shape.length;
        long batch = product(shape, 0, k - 2);
        long rows = shape[k - 2];
        long cols = shape[k - 1];
        MemorySegment rowStats = floats(arena, batch * rows);
        MemorySegment colStats = floats(arena, batch * cols);
        parts.add(new Part(".rows", "F32", new long[] {batch * rows}, rowStats));
        parts.add(new Part(".cols", "F32", new long[] {batch * cols}, colStats));
        return new Moment(
            format, new FactorizedMoment(batch, rows, cols, rowStats, colStats), parts, shape,
            null);
      }
      default -> throw new AssertionError(format);
    }
  }

  private static long product(long[] shape, int from, int to) {
    long p = 1;
    for (int d = from; d < to; d++) {
      p *= shape[d];
    }
    return p;
  }

  private static MemorySegment floats(Arena arena, long count) {
    return arena.allocate(count * 4, 8);
  }

  private static MemorySegment codes(Arena arena, StateFormat format, long length) {
    long bytes = format.book().bits() == 8 ? length : (length + 1) / 2;
    return arena.allocate(bytes, 8);
  }

  /** Exact bytes held between steps: every part (the per-step row workspace is not counted). */
  long bytes() {
    long sum = 0;
    for (Part p : parts) {
      sum += p.segment.byteSize();
    }
    return sum;
  }

  /** The format as JSON, for checkpoint metadata. */
  JsonObject describe() {
    JsonObject o = new JsonObject();
    o.addProperty("normalization", format.normalization().name());
    if (format.book() != null) {
      o.addProperty("code_book", format.book().name());
    }
    if (format.blockSize() != 0) {
      o.addProperty("block_size", format.blockSize());
    }
    return o;
  }

  /**
   * The view for one kernel call. For rank-1 state above rank 2: a copy of {@link #view} whose
   * row scales (min over the leading dimensions' max vectors) are derived into a fresh heap
   * workspace that any worker thread may read and that is dropped after the step; otherwise
   * {@link #view} itself.
   *
   * @return the view to pass to the kernel, then to {@link #endStep(MomentState)}
   */
  MomentState beginStep() {
    if (dimScales == null) {
      return view;
    }
    Rank1Moment r = (Rank1Moment) view;
    long rows = r.rows();
    MemorySegment rowScales = rows <= Integer.MAX_VALUE - 8
        ? MemorySegment.ofArray(new float[(int) rows])
        : Arena.ofAuto().allocate(rows * 4, 8);
    int lead = shape.length - 1;
    long[] index = new long[lead];
    for (long row = 0; row < rows; row++) {
      float s = Float.POSITIVE_INFINITY;
      for (int d = 0; d < lead; d++) {
        s = Math.min(s, dimScales[d].getAtIndex(ValueLayout.JAVA_FLOAT, index[d]));
      }
      rowScales.setAtIndex(ValueLayout.JAVA_FLOAT, row, s);
      advance(index);
    }
    return new Rank1Moment(
        r.book(), rows, r.cols(), r.codes(), rowScales, r.colScales(),
        java.util.Arrays.copyOf(shape, shape.length - 1));
  }

  /**
   * After a successful kernel call: for rank-1 state above rank 2, the leading dimensions' max
   * vectors from the row scales the kernel returned in the step view (the max over the rows
   * sharing an index, which gives back the max vectors the kernel derived them from).
   *
   * @param stepView the view {@link #beginStep()} returned for this step
   */
  void endStep(MomentState stepView) {
    if (dimScales == null) {
      return;
    }
    MemorySegment rowScales = ((Rank1Moment) stepView).rowScales();
    int lead = shape.length - 1;
    for (int d = 0; d < lead; d++) {
      dimScales[d].fill((byte) 0);
    }
    long rows = ((Rank1Moment) stepView).rows();
    long[] index = new long[lead];
    for (long row = 0; row < rows; row++) {
      float m = rowScales.getAtIndex(ValueLayout.JAVA_FLOAT, row);
      for (int d = 0; d < lead; d++) {
        float old = dimScales[d].getAtIndex(ValueLayout.JAVA_FLOAT, index[d]);
        if (m > old) {
          dimScales[d].setAtIndex(ValueLayout.JAVA_FLOAT, index[d], m);
        }
      }
      advance(index);
    }
  }

  /** Row-major odometer over the leading dimensions. */
  private void advance(long[] index) {
    for (int d = index.length - 1; d >= 0; d--) {
      if (++index[d] < shape[d]) {
        return;
      }
      index[d] = 0;
    }
  }
}
