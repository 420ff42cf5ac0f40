package dev.lowbit.optim.shampoo;

import dev.lowbit.quant.BlockwiseQuantizer;
import dev.lowbit.quant.CodeBook;
import dev.lowbit.quant.PackedCodes;
import dev.lowbit.quant.Rounding;
import java.lang.foreign.MemorySegment;
import org.ejml.data.DMatrixRMaj;

/**
 * A square matrix stored row by row in 4 bits: each row is cut into blocks of {@link #BLOCK}
 * contiguous elements with one float32 absmax scale per block (quant-blockwise's
 * {@link BlockwiseQuantizer}). Rows are padded with zeros to a multiple of the block size so that
 * a block never spans two rows: for eigenvectors (stored one per row) this is the paper's "blocks
 * of 64 contiguous elements of one eigenvector".
 */
final class QuantizedRows {

  /** Elements per block. */
  static final int BLOCK = 64;

  private final CodeBook book;
  private final int order;
  private final int stride;
  private final byte[] codes;
  private final float[] scales;

  private QuantizedRows(CodeBook book, int order, byte[] codes, float[] scales) {
    this.book = book;
    this.order = order;
    this.stride = paddedStride(order);
    this.codes = codes;
    this.scales = scales;
  }

  /** Row length after padding to whole blocks. */
  static int paddedStride(int order) {
    return (order + BLOCK - 1) / BLOCK * BLOCK;
  }

  /** Bytes of codes for an order-n matrix. */
  static long codeBytes(CodeBook book, int order) {
    return PackedCodes.byteSize(book.bits(), (long) order * paddedStride(order));
  }

  /** Number of float32 scales for an order-n matrix. */
  static int scaleCount(int order) {
    return order * (paddedStride(order) / BLOCK);
  }

  /**
   * Quantizes the rows of a square matrix.
   *
   * @param book the code book
   * @param m a finite square matrix
   * @return the quantized matrix
   */
  static QuantizedRows quantize(CodeBook book, DMatrixRMaj m) {
    int n = m.numRows;
    int stride = paddedStride(n);
    float[] padded = new float[n * stride];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        padded[i * stride + j] = (float) m.unsafe_get(i, j);
      }
    }
    byte[] codes = new byte[(int) codeBytes(book, n)];
    float[] scales = new float[scaleCount(n)];
    BlockwiseQuantizer.quantize(
        book,
        BLOCK,
        MemorySegment.ofArray(padded),
        padded.length,
        MemorySegment.ofArray(codes),
        MemorySegment.ofArray(scales),
        Rounding.NEAREST);
    return new QuantizedRows(book, n, codes, scales);
  }

  /**
   * Quantizes the columns of {@code m} (stored as the rows of its transpose): eigenvectors are
   * columns, and each eigenvector must own its blocks.
   */
  static QuantizedRows quantizeColumns(CodeBook book, DMatrixRMaj m) {
    DMatrixRMaj t = new DMatrixRMaj(m.numCols, m.numRows);
    org.ejml.dense.row.CommonOps_DDRM.transpose(m, t);
    return quantize(book, t);
  }

  /** Rebuilds a quantized matrix from checkpoint arrays (sizes already checked by the caller). */
  static QuantizedRows of(CodeBook book, int order, byte[] codes, float[] scales) {
    if (codes.length != codeBytes(book, order) || scales.length != scaleCount(order)) {
      throw new IllegalArgumentException(
          "quantized matrix of order " + order + " needs " + codeBytes(book, order)
              + " code bytes and " + scaleCount(order) + " scales, got " + codes.length
              + " and " + scales.length);
    }
    return new QuantizedRows(book, order, codes, scales);
  }

  /** The dequantized matrix, in double. */
  DMatrixRMaj dequantize() {
    float[] padded = dequantizePadded();
    DMatrixRMaj m = new DMatrixRMaj(order, order);
    for (int i = 0; i < order; i++) {
      for (int j = 0; j < order; j++) {
        m.unsafe_set(i, j, padded[i * stride + j]);
      }
    }
    return m;
  }

  /**
   * The dequantized matrix in float32, row-major n x n (the same values as {@link #dequantize}).
   */
  float[] dequantizeFloats() {
    float[] padded = dequantizePadded();
    float[] m = new float[order * order];
    for (int i = 0; i < order; i++) {
      System.arraycopy(padded, i * stride, m, i * order, order);
    }
    return m;
  }

  /** Every row, padding included: {@code order * stride} floats. */
  private float[] dequantizePadded() {
    float[] padded = new float[order * stride];
    BlockwiseQuantizer.dequantize(
        book,
        BLOCK,
        MemorySegment.ofArray(codes),
        MemorySegment.ofArray(scales),
        padded.length,
        MemorySegment.ofArray(padded));
    return padded;
  }

  /** The dequantized matrix, transposed back: the inverse of {@link #quantizeColumns}. */
  DMatrixRMaj dequantizeColumns() {
    DMatrixRMaj rows = dequantize();
    DMatrixRMaj m = new DMatrixRMaj(order, order);
    org.ejml.dense.row.CommonOps_DDRM.transpose(rows, m);
    return m;
  }

  /** The packed codes (not a copy: callers only read them, to write checkpoints). */
  byte[] codes() {
    return codes;
  }

  /** The block scales (not a copy: callers only read them). */
  float[] scales() {
    return scales;
  }

  /** Bytes held: codes plus float32 scales. */
  long bytes() {
    return codes.length + 4L * scales.length;
  }
}
