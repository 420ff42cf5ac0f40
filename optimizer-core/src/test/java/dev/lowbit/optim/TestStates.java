package dev.lowbit.optim;

import dev.lowbit.kernels.BlockwiseMoment;
import dev.lowbit.kernels.FactorizedMoment;
import dev.lowbit.kernels.Fp32Moment;
import dev.lowbit.kernels.Rank1Moment;
import dev.lowbit.quant.CodeBook;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/** Test access to optimizer state: dequantize it, overwrite float32 state, snapshot it. */
final class TestStates {

  private TestStates() {}

  static Moment moment(Optimizer opt, String name, int index) {
    return ((MomentSet) opt.state(name)).moment(index);
  }

  /** The moment's values as the kernels decode them (independently re-derived from the codes). */
  static float[] dequantize(Optimizer opt, String name, int index) {
    Moment m = moment(opt, name, index);
    long[] shape = opt.parameter(name).shape();
    int n = Math.toIntExact(opt.parameter(name).length());
    float[] out = new float[n];
    switch (m.view) {
      case Fp32Moment f -> MemorySegment.copy(f.values(), ValueLayout.JAVA_FLOAT, 0, out, 0, n);
      case BlockwiseMoment b -> {
        for (int i = 0; i < n; i++) {
          float scale = b.scales().getAtIndex(ValueLayout.JAVA_FLOAT, i / b.blockSize());
          out[i] = b.book().value(code(b.book(), b.codes(), i)) * scale;
        }
      }
      case Rank1Moment r -> {
        int k = shape.length;
        MemorySegment[] dims = new MemorySegment[k];
        for (Moment.Part p : m.parts) {
          if (p.suffix().startsWith(".scales.")) {
            dims[Integer.parseInt(p.suffix().substring(8))] = p.segment();
          }
        }
        long[] idx = new long[k];
        for (int i = 0; i < n; i++) {
          float s = Float.POSITIVE_INFINITY;
          for (int d = 0; d < k; d++) {
            s = Math.min(s, dims[d].getAtIndex(ValueLayout.JAVA_FLOAT, idx[d]));
          }
          out[i] = r.book().value(code(r.book(), r.codes(), i)) * s;
          for (int d = k - 1; d >= 0; d--) {
            if (++idx[d] < shape[d]) {
              break;
            }
            idx[d] = 0;
          }
        }
      }
      case FactorizedMoment f -> {
        int rows = (int) f.rows();
        int cols = (int) f.cols();
        for (int b = 0; b < f.batch(); b++) {
          double mean = 0;
          for (int i = 0; i < rows; i++) {
            mean += f.rowStats().getAtIndex(ValueLayout.JAVA_FLOAT, (long) b * rows + i);
          }
          mean /= rows;
          for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
              double r = f.rowStats().getAtIndex(ValueLayout.JAVA_FLOAT, (long) b * rows + i);
              double c = f.colStats().getAtIndex(ValueLayout.JAVA_FLOAT, (long) b * cols + j);
              out[(b * rows + i) * cols + j] = mean == 0 ? 0f : (float) (r * c / mean);
            }
          }
        }
      }
    }
    return out;
  }

  static int code(CodeBook book, MemorySegment codes, long i) {
    if (book.bits() == 8) {
      return codes.get(ValueLayout.JAVA_BYTE, i) & 0xff;
    }
    int b = codes.get(ValueLayout.JAVA_BYTE, i >> 1) & 0xff;
    return (i & 1) == 0 ? b & 0xf : b >>> 4;
  }

  /** Overwrites a float32 moment (the reference optimizer's), e.g. with dequantized values. */
  static void setFloat32(Optimizer opt, String name, int index, float[] values) {
    Fp32Moment f = (Fp32Moment) moment(opt, name, index).view;
    MemorySegment.copy(values, 0, f.values(), ValueLayout.JAVA_FLOAT, 0, values.length);
  }

  /** Every state byte, step count and skipped count of the optimizer, in a fixed order. */
  static byte[] snapshot(Optimizer opt) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (String name : opt.parameterNames()) {
      out.writeBytes(name.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      out.writeBytes(Long.toString(opt.stepCount(name)).getBytes());
      MomentSet s = (MomentSet) opt.state(name);
      for (int i = 0; i < s.momentCount(); i++) {
        for (Moment.Part p : s.moment(i).parts) {
          out.writeBytes(p.segment().toArray(ValueLayout.JAVA_BYTE));
        }
      }
    }
    out.writeBytes(Long.toString(opt.skippedSteps()).getBytes());
    return out.toByteArray();
  }

  /**
   * Sum of the sizes of every segment the state holds between steps (the rank-1 row scales of a
   * tensor above rank 2 are per-step workspace: the stored view's are an empty placeholder).
   */
  static long segmentBytes(Optimizer opt, String name) {
    long sum = 0;
    MomentSet s = (MomentSet) opt.state(name);
    for (int i = 0; i < s.momentCount(); i++) {
      Moment m = s.moment(i);
      for (Moment.Part p : m.parts) {
        sum += p.segment().byteSize();
      }
      if (m.view instanceof Rank1Moment r && opt.parameter(name).rank() > 2
          && r.rowScales().byteSize() != 0) {
        throw new AssertionError("rank-1 row scales of '" + name + "' are kept between steps");
      }
    }
    return sum;
  }

  static float[] gaussian(SplittableRandom rnd, int n, double scale) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = (float) (rnd.nextGaussian() * scale);
    }
    return a;
  }
}
