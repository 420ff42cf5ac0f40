package dev.lowbit.optim;

import com.google.gson.JsonObject;
import dev.lowbit.kernels.Kernels;
import dev.lowbit.kernels.MomentState;
import dev.lowbit.quant.CodeBook;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Set;

/**
 * The state of one parameter for the moment-based optimizers (Adam's m and v, SGD's buffer):
 * named {@link Moment}s in one arena that this object owns.
 */
final class MomentSet implements ParameterState {

  private final Arena arena;
  private final String[] names;
  private final Moment[] moments;

  private MomentSet(Arena arena, String[] names, Moment[] moments) {
    this.arena = arena;
    this.names = names;
    this.moments = moments;
  }

  /**
   * Allocates zeroed moments.
   *
   * @param names the moments' names, such as {@code "m"} and {@code "v"}
   * @param formats their resolved formats, one per name
   * @param p the parameter
   */
  static MomentSet allocate(String[] names, StateFormat[] formats, Parameter p) {
    // Shared: kernels may touch the state from several worker threads.
    Arena arena = Arena.ofShared();
    try {
      Moment[] moments = new Moment[names.length];
      for (int i = 0; i < names.length; i++) {
        moments[i] = Moment.allocate(formats[i], p.shape(), p.length(), arena);
      }
      return new MomentSet(arena, names.clone(), moments);
    } catch (RuntimeException | Error e) {
      arena.close();
      throw e;
    }
  }

  /**
   * Allocates moments and fills them from a checkpoint, checking that the checkpoint describes
   * the same formats and that every stored value is usable: float values finite, those the
   * optimizer never makes negative (a non-negative moment, every scale and statistic) not
   * negative, codes inside their book.
   *
   * @param names the moments' names
   * @param nonNegative the names of the moments that are never negative (Adam's v)
   * @param formats the formats this optimizer uses for the parameter
   * @param p the parameter
   * @param description the checkpoint's description of the state
   * @param in the checkpoint
   * @param keyPrefix the tensors' key prefix
   */
  static MomentSet read(
      String[] names, Set<String> nonNegative, StateFormat[] formats, Parameter p,
      String description, CheckpointReader in, String keyPrefix) throws CheckpointException {
    MomentSet fresh = allocate(names, formats, p);
    try {
      String expected = fresh.describe();
      JsonObject stored = CheckpointReader.strictObject(
          in.file(), "state description of parameter '" + p.name() + "'", description);
      if (!stored.equals(CheckpointReader.strictObject(in.file(), "expected", expected))) {
        throw new CheckpointException(
            in.file(), "parameter '" + p.name() + "': the checkpoint's state format " + stored
                + " differs from this optimizer's " + expected);
      }
      for (int i = 0; i < names.length; i++) {
        Moment m = fresh.moments[i];
        for (Moment.Part part : m.parts) {
          String key = keyPrefix + names[i] + part.suffix();
          if (part.dtype().equals("F32")) {
            in.readFloat32(key, part.shape(), part.segment());
            long bad = Kernels.get().firstNonFinite(part.segment(), part.segment().byteSize() / 4);
            if (bad >= 0) {
              throw new CheckpointException(
                  in.file(), "tensor '" + key + "': element " + bad + " is not finite");
            }
            // Scales, maxima and statistics have a suffix; all are non-negative, as is v.
            if (!part.suffix().isEmpty() || nonNegative.contains(names[i])) {
              checkNotNegative(in, key, part.segment());
            }
          } else {
            in.readUint8(key, part.shape(), part.segment());
            checkCodes(in, key, m.format.book(), part.segment());
          }
        }
      }
      return fresh;
    } catch (CheckpointException | RuntimeException e) {
      fresh.close();
      throw e;
    }
  }

  /**
   * A negative v or scale would make the next step take the square root of a negative number
   * (NaN in the weights), or flip the sign of decoded values. {@code -0.0} is allowed.
   */
  private static void checkNotNegative(CheckpointReader in, String key, MemorySegment values)
      throws CheckpointException {
    long n = values.byteSize() / 4;
    for (long i = 0; i < n; i++) {
      if (values.getAtIndex(ValueLayout.JAVA_FLOAT, i) < 0f) {
        throw new CheckpointException(in.file(), "tensor '" + key + "': element " + i
            + " is negative (" + values.getAtIndex(ValueLayout.JAVA_FLOAT, i)
            + "); this optimizer never makes it so");
      }
    }
  }

  /** Codes beyond a short book's table would index past it; only such books need the scan. */
  private static void checkCodes(
      CheckpointReader in, String key, CodeBook book, MemorySegment codes)
      throws CheckpointException {
    int size = book.size();
    if (size == (1 << book.bits())) {
      return;
    }
    for (long i = 0; i < codes.byteSize(); i++) {
      int b = codes.get(ValueLayout.JAVA_BYTE, i) & 0xff;
      int lo = book.bits() == 8 ? b : b & 0xf;
      int hi = book.bits() == 8 ? 0 : b >>> 4;
      if (lo >= size || hi >= size) {
        throw new CheckpointException(
            in.file(), "tensor '" + key + "': byte " + i + " holds a code outside the "
                + book.name() + " table");
      }
    }
  }

  Moment moment(int i) {
    return moments[i];
  }

  int momentCount() {
    return moments.length;
  }

  /**
   * The kernels' views for one step, in moment order (see {@link Moment#beginStep()}); any
   * per-step workspace they carry is dropped with them.
   */
  MomentState[] beginStep() {
    MomentState[] views = new MomentState[moments.length];
    for (int i = 0; i < moments.length; i++) {
      views[i] = moments[i].beginStep();
    }
    return views;
  }

  /** After the kernel call: folds the step views back into the state. */
  void endStep(MomentState[] views) {
    for (int i = 0; i < moments.length; i++) {
      moments[i].endStep(views[i]);
    }
  }

  @Override
  public long bytes() {
    long sum = 0;
    for (Moment m : moments) {
      sum += m.bytes();
    }
    return sum;
  }

  @Override
  public String describe() {
    JsonObject o = new JsonObject();
    for (int i = 0; i < names.length; i++) {
      o.add(names[i], moments[i].describe());
    }
    return o.toString();
  }

  @Override
  public void write(CheckpointWriter out, String keyPrefix) {
    for (int i = 0; i < names.length; i++) {
      for (Moment.Part part : moments[i].parts) {
        String key = keyPrefix + names[i] + part.suffix();
        if (part.dtype().equals("F32")) {
          out.addFloat32(key, part.shape(), part.segment());
        } else {
          out.addUint8(key, part.shape(), part.segment());
        }
      }
    }
  }

  @Override
  public void close() {
    arena.close();
  }

  @Override
  public String toString() {
    return Arrays.toString(names) + " " + describe();
  }
}
