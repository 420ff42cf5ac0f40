package dev.lowbit.kernels;

import dev.lowbit.quant.CodeBook;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Moves one tile of a quantized or factorized moment between its stored form and a float scratch
 * array, with vectors; the vector counterpart of {@link MomentChunks}. A tile starts at a
 * multiple of every block size in play, so it holds whole blocks and whole bytes of 4-bit codes.
 */
final class SimdMomentTiles {

  private static final ByteOrder ORDER = ByteOrder.nativeOrder();

  private SimdMomentTiles() {}

  /**
   * Decodes a block-wise moment's elements {@code [start, start + n)} into {@code dst[0, n)}.
   *
   * @param shape vector width
   * @param b the moment
   * @param start first element (a multiple of the block size)
   * @param n number of elements
   * @param dst the tile
   * @param index gather scratch, at least {@code n} ints
   */
  static void loadBlockwise(
      SimdShape shape, BlockwiseMoment b, long start, int n, float[] dst, int[] index) {
    SimdCodeBook coder = SimdCodeBook.of(b.book());
    int blockSize = b.blockSize();
    for (int from = 0; from < n; from += blockSize) {
      int len = Math.min(blockSize, n - from);
      float scale = Codes.getFloat(b.scales(), (start + from) / blockSize);
      coder.decode(shape, b.codes(), start + from, len, scale, dst, from, index);
    }
  }

  /**
   * Quantizes {@code src[0, n)} into a block-wise moment's elements {@code [start, start + n)}:
   * per block the new scale {@code max |x|}, then the codes.
   *
   * @param shape vector width
   * @param b the moment
   * @param start first element (a multiple of the block size)
   * @param n number of elements
   * @param src the new values
   * @param index gather scratch, at least {@code n} ints
   * @param clear a float segment whose elements {@code [start, start + n)} the encoder sets to
   *     zero as it goes, or null
   */
  static void storeBlockwise(
      SimdShape shape, BlockwiseMoment b, long start, int n, float[] src, int[] index,
      MemorySegment clear) {
    SimdCodeBook coder = SimdCodeBook.of(b.book());
    int blockSize = b.blockSize();
    for (int from = 0; from < n; from += blockSize) {
      int len = Math.min(blockSize, n - from);
      float scale = SimdUpdate.absMax(shape, src, from, from + len);
      Codes.setFloat(b.scales(), (start + from) / blockSize, scale);
      coder.encode(shape, src, from, len, scale, b.codes(), start + from, index, clear);
    }
  }

  /**
   * Decodes a rank-1 moment's elements {@code [start, start + n)} with the scales stored in the
   * state (the old ones): {@code value(code) * min(rowScale, colScale)}.
   *
   * @param shape vector width
   * @param r the moment
   * @param oldRows a copy of the state's row scales (arrays keep the vector loop off segments)
   * @param oldCols a copy of the state's column scales
   * @param start first element (even)
   * @param n number of elements
   * @param dst the tile
   * @param scales scratch for the element scales, at least {@code n} floats
   * @param index gather scratch, at least {@code n} ints
   */
  static void loadRank1(
      SimdShape shape,
      Rank1Moment r,
      float[] oldRows,
      float[] oldCols,
      long start,
      int n,
      float[] dst,
      float[] scales,
      int[] index) {
    CodeBook book = r.book();
    // value(code) * 1 is exact, so multiplying by the element scale afterwards rounds once, as
    // the scalar value(code) * scale does.
    SimdCodeBook.of(book).decode(shape, r.codes(), start, n, 1f, dst, 0, index);
    elementScales(shape, r.cols(), start, n, oldRows, oldCols, scales);
    VectorSpecies<Float> floats = shape.floats();
    int bound = floats.loopBound(n);
    int k = 0;
    for (; k < bound; k += floats.length()) {
      FloatVector.fromArray(floats, dst, k)
          .mul(FloatVector.fromArray(floats, scales, k))
          .intoArray(dst, k);
    }
    for (; k < n; k++) {
      dst[k] = dst[k] * scales[k];
    }
  }

  /**
   * Quantizes {@code src[0, n)} into a rank-1 moment's elements {@code [start, start + n)} with
   * the new scales {@code min(newRows[i], newCols[j])}.
   *
   * @param shape vector width
   * @param r the moment
   * @param start first element (even)
   * @param n number of elements
   * @param src the new values
   * @param newRows the new row maxima
   * @param newCols the new column maxima
   * @param scales scratch for the element scales
   * @param index gather scratch
   */
  static void storeRank1(
      SimdShape shape,
      Rank1Moment r,
      long start,
      int n,
      float[] src,
      float[] newRows,
      float[] newCols,
      float[] scales,
      int[] index) {
    elementScales(shape, r.cols(), start, n, newRows, newCols, scales);
    SimdCodeBook.of(r.book()).encode(shape, src, scales, 0, n, r.codes(), start, index);
  }

  /** {@code scales[k] = min(rows[i], cols[j])} for element {@code start + k = i * cols + j}. */
  private static void elementScales(
      SimdShape shape, long colCount, long start, int n, float[] rows, float[] cols,
      float[] scales) {
    VectorSpecies<Float> floats = shape.floats();
    int row = (int) (start / colCount);
    int col = (int) (start % colCount);
    int k = 0;
    while (k < n) {
      int len = (int) Math.min(n - k, colCount - col);
      float rowScale = rows[row];
      int bound = k + floats.loopBound(len);
      int shift = col - k;
      int j = k;
      for (; j < bound; j += floats.length()) {
        FloatVector.fromArray(floats, cols, j + shift)
            .lanewise(VectorOperators.MIN, rowScale)
            .intoArray(scales, j);
      }
      for (; j < k + len; j++) {
        scales[j] = Math.min(rowScale, cols[j + shift]);
      }
      k += len;
      col = 0;
      row++;
    }
  }

  /**
   * Rebuilds a factorized second moment {@code v = (R[b,i] * C[b,j]) / meanR[b]} (0 where
   * {@code meanR[b]} is 0) for elements {@code [start, start + n)}, from statistics already
   * updated for this step.
   *
   * @param shape vector width
   * @param f the moment
   * @param meanRow {@code meanR} per matrix
   * @param start first element
   * @param n number of elements
   * @param dst the tile
   */
  static void loadFactorized(
      SimdShape shape, FactorizedMoment f, float[] meanRow, long start, int n, float[] dst) {
    VectorSpecies<Float> floats = shape.floats();
    long rows = f.rows();
    long cols = f.cols();
    long matrix = rows * cols;
    int k = 0;
    while (k < n) {
      long at = start + k;
      long b = at / matrix;
      long i = (at % matrix) / cols;
      long j = at % cols;
      int len = (int) Math.min(n - k, cols - j);
      float rowStat = Codes.getFloat(f.rowStats(), b * rows + i);
      float mean = meanRow[(int) b];
      long colAt = (b * cols + j) * Float.BYTES - 4L * k;
      int bound = k + floats.loopBound(len);
      int e = k;
      if (mean == 0f) {
        bound = k;
      }
      for (; e < bound; e += floats.length()) {
        FloatVector.broadcast(floats, rowStat)
            .mul(FloatVector.fromMemorySegment(floats, f.colStats(), colAt + 4L * e, ORDER))
            .div(mean)
            .intoArray(dst, e);
      }
      for (; e < k + len; e++) {
        dst[e] =
            FactorizedStats.value(
                rowStat, Codes.getFloat(f.colStats(), b * cols + j + (e - k)), mean);
      }
      k += len;
    }
  }
}
