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
 * before a step the per-row scales are derived into a scratch segment (min over the leading
 * dims' vectors), after it the returned row maxima are folded back into those vectors.
 */
final class Moment {

  /** One stored tensor of the moment: key suffix, safetensors dtype, shape, memory. */
  record Part(String suffix, String dtype, long[] shape, MemorySegment segment) {}

  final StateFormat format;
  final MomentState view;
  final List<Part> parts;
  private final long[] shape;
  private final MemorySegment[] dimScales;
  private final MemorySegment rowScratch;

  private Moment(
      StateFormat format, MomentState view, List<Part> parts, long[] shape,
      MemorySegment[] dimScales, MemorySegment rowScratch) {
    this.format = format;
    this.view = view;
    this.parts = parts;
    this.shape = shape;
    this.dimScales = dimScales;
    this.rowScratch = rowScratch;
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
        return new Moment(format, new Fp32Moment(values), parts, shape, null, null);
      }
      case BLOCKWISE -> {
        MemorySegment codes = codes(arena, format, length);
        long blocks = (length + format.blockSize() - 1) / format.blockSize();
        MemorySegment scales = floats(arena, blocks);
        parts.add(new Part(".codes", "U8", new long[] {codes.byteSize()}, codes));
        parts.add(new Part(".scales", "F32", new long[] {blocks}, scales));
        return new Moment(
            format, new BlockwiseMoment(format.book(), format.blockSize(), codes, scales), parts,
            shape, null, null);
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
        MemorySegment scratch = k > 2 ? floats(arena, rows) : null;
        MemorySegment rowScales = k > 2 ? scratch : dims[0];
        return new Moment(
            format, new Rank1Moment(format.book(), rows, cols, codes, rowScales, dims[k - 1]),
            parts, shape, dims, scratch);
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
            null, null);
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

  /** Exact bytes held: every part plus the rank-1 row scratch. */
  long bytes() {
    long sum = rowScratch == null ? 0 : rowScratch.byteSize();
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

  /** Rank above 2 only: per-row scales = min over the leading dimensions' max vectors. */
  void beforeStep() {
    if (rowScratch == null) {
      return;
    }
    int lead = shape.length - 1;
    long rows = rowScratch.byteSize() / 4;
    long[] index = new long[lead];
    for (long r = 0; r < rows; r++) {
      float s = Float.POSITIVE_INFINITY;
      for (int d = 0; d < lead; d++) {
        s = Math.min(s, dimScales[d].getAtIndex(ValueLayout.JAVA_FLOAT, index[d]));
      }
      rowScratch.setAtIndex(ValueLayout.JAVA_FLOAT, r, s);
      advance(index);
    }
  }

  /** Rank above 2 only: the leading dimensions' max vectors from the returned row maxima. */
  void afterStep() {
    if (rowScratch == null) {
      return;
    }
    int lead = shape.length - 1;
    for (int d = 0; d < lead; d++) {
      dimScales[d].fill((byte) 0);
    }
    long rows = rowScratch.byteSize() / 4;
    long[] index = new long[lead];
    for (long r = 0; r < rows; r++) {
      float m = rowScratch.getAtIndex(ValueLayout.JAVA_FLOAT, r);
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
