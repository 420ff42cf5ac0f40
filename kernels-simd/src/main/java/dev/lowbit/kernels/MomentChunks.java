package dev.lowbit.kernels;

import dev.lowbit.quant.CodeBook;
import java.lang.foreign.MemorySegment;

/**
 * Moves one chunk of a moment between its stored form and a float32 working array: {@code load}
 * decodes the old values, {@code store} writes the new ones back (quantizing them if needed). A
 * chunk starts at a multiple of {@link SquareSums#CHUNK}, which is a multiple of every block size,
 * so a chunk holds whole blocks (the tensor's last block may be partial) and whole bytes of 4-bit
 * codes.
 */
sealed interface MomentChunks {

  /**
   * Decodes elements {@code [start, start + n)} into {@code dst[0, n)}.
   *
   * @param start first element
   * @param n number of elements
   * @param dst the working array
   */
  void load(long start, int n, float[] dst);

  /**
   * Stores elements {@code [start, start + n)} from {@code src[0, n)}.
   *
   * @param start first element
   * @param n number of elements
   * @param src the new values
   */
  void store(long start, int n, float[] src);

  /**
   * The chunk mover of a float32 or block-wise moment (the two allowed for m and SGD's buffer).
   *
   * @param state the moment
   * @param name the parameter name used in the error message ({@code "m"}, {@code "buffer"})
   * @return its chunk mover
   * @throws IllegalArgumentException for any other state
   */
  static MomentChunks of(MomentState state, String name) {
    return switch (state) {
      case Fp32Moment f -> new Fp32(f.values());
      case BlockwiseMoment b -> new Blockwise(b);
      default ->
          throw new IllegalArgumentException(
              name + " must be an Fp32Moment or a BlockwiseMoment, got "
                  + state.getClass().getSimpleName());
    };
  }

  /** Plain float32 storage. */
  record Fp32(MemorySegment values) implements MomentChunks {
    @Override
    public void load(long start, int n, float[] dst) {
      for (int k = 0; k < n; k++) {
        dst[k] = Codes.getFloat(values, start + k);
      }
    }

    @Override
    public void store(long start, int n, float[] src) {
      for (int k = 0; k < n; k++) {
        Codes.setFloat(values, start + k, src[k]);
      }
    }
  }

  /** Block-wise absmax quantization. */
  record Blockwise(BlockwiseMoment state) implements MomentChunks {
    @Override
    public void load(long start, int n, float[] dst) {
      CodeBook book = state.book();
      int bits = book.bits();
      int blockSize = state.blockSize();
      for (int from = 0; from < n; from += blockSize) {
        int to = Math.min(n, from + blockSize);
        float scale = Codes.getFloat(state.scales(), (start + from) / blockSize);
        for (int k = from; k < to; k++) {
          dst[k] = book.decode(Codes.read(state.codes(), bits, start + k), scale);
        }
      }
    }

    @Override
    public void store(long start, int n, float[] src) {
      int blockSize = state.blockSize();
      for (int from = 0; from < n; from += blockSize) {
        int to = Math.min(n, from + blockSize);
        float scale = ScalarKernels.absMax(src, from, to);
        Codes.setFloat(state.scales(), (start + from) / blockSize, scale);
        for (int k = from; k < to; k++) {
          int code = ScalarKernels.encode(state.book(), src[k], scale);
          Codes.write(state.codes(), state.book().bits(), start + k, code);
        }
      }
    }
  }

  /**
   * Rank-1 normalization: decodes with the scales in the state (the old ones) and encodes with
   * the new maxima computed by {@link Rank1Maxima} before the fused pass (null when the mover is
   * only used to load, as in that first pass).
   */
  record Rank1(Rank1Moment state, float[] newRowScales, float[] newColScales)
      implements MomentChunks {
    @Override
    public void load(long start, int n, float[] dst) {
      CodeBook book = state.book();
      long cols = state.cols();
      long row = start / cols;
      long col = start % cols;
      for (int k = 0; k < n; k++) {
        float scale =
            Math.min(
                Codes.getFloat(state.rowScales(), row), Codes.getFloat(state.colScales(), col));
        dst[k] = book.decode(Codes.read(state.codes(), book.bits(), start + k), scale);
        if (++col == cols) {
          col = 0;
          row++;
        }
      }
    }

    @Override
    public void store(long start, int n, float[] src) {
      CodeBook book = state.book();
      long cols = state.cols();
      int row = (int) (start / cols);
      int col = (int) (start % cols);
      for (int k = 0; k < n; k++) {
        float scale = Math.min(newRowScales[row], newColScales[col]);
        Codes.write(
            state.codes(), book.bits(), start + k, ScalarKernels.encode(book, src[k], scale));
        if (++col == cols) {
          col = 0;
          row++;
        }
      }
    }
  }

  /**
   * Factorized second moment: {@code load} rebuilds {@code v = (R[b,i] * C[b,j]) / meanR[b]}
   * from the already updated statistics; nothing is stored per element.
   */
  record Factorized(FactorizedMoment state, float[] meanRow) implements MomentChunks {
    @Override
    public void load(long start, int n, float[] dst) {
      long rows = state.rows();
      long cols = state.cols();
      long matrix = rows * cols;
      long b = start / matrix;
      long i = (start % matrix) / cols;
      long j = start % cols;
      for (int k = 0; k < n; k++) {
        dst[k] =
            FactorizedStats.value(
                Codes.getFloat(state.rowStats(), b * rows + i),
                Codes.getFloat(state.colStats(), b * cols + j),
                meanRow[(int) b]);
        if (++j == cols) {
          j = 0;
          if (++i == rows) {
            i = 0;
            b++;
          }
        }
      }
    }

    @Override
    public void store(long start, int n, float[] src) {
      // The statistics were updated before the fused pass; v itself is never stored.
    }
  }
}
