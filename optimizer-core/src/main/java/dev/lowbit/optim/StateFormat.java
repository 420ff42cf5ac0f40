package dev.lowbit.optim;

import dev.lowbit.quant.CodeBook;
import java.util.Objects;

/**
 * How one optimizer moment is stored: a normalization, a code book and a block size. Build one
 * with {@link #float32()}, {@link #blockwise(CodeBook, int)}, {@link #rank1(CodeBook)} or
 * {@link #factorized()}; the named {@link Precision}s are combinations of these.
 *
 * <p>Rank-1 normalization and factorization need a tensor of rank 2 or more; for others,
 * {@link #resolve(long[])} falls back to block-wise with B = 128 (the rank-1 format's own code
 * book, or Linear-4 for a factorized moment), as docs/algorithms.md section 2 prescribes.
 *
 * @param normalization where the scales come from
 * @param book the code book; null for {@link Normalization#FLOAT32} and
 *     {@link Normalization#FACTORIZED}
 * @param blockSize elements per block for {@link Normalization#BLOCKWISE} (a power of two from 32
 *     to 4096); 0 otherwise
 */
public record StateFormat(Normalization normalization, CodeBook book, int blockSize) {

  /** Block size of the fallback for rank-1 and factorized formats on tensors of rank below 2. */
  public static final int FALLBACK_BLOCK_SIZE = 128;

  /** Where a moment's scales come from. */
  public enum Normalization {
    /** Not quantized: one float32 per element. */
    FLOAT32,
    /** One float32 absmax scale per block of {@code blockSize} elements. */
    BLOCKWISE,
    /** Scale of element (i, j) is min(row max, column max); only the maxima are stored. */
    RANK1,
    /** Only float32 row and column means of g² are stored (Adafactor-style; second moment only). */
    FACTORIZED
  }

  /**
   * Validates the combination.
   *
   * @throws IllegalArgumentException naming what is wrong
   */
  public StateFormat {
    Objects.requireNonNull(normalization, "normalization");
    switch (normalization) {
      case FLOAT32, FACTORIZED -> {
        if (book != null || blockSize != 0) {
          throw new IllegalArgumentException(
              normalization + " state takes no code book and no block size");
        }
      }
      case BLOCKWISE -> {
        Objects.requireNonNull(book, "book");
        if (blockSize < 32 || blockSize > 4096 || Integer.bitCount(blockSize) != 1) {
          throw new IllegalArgumentException(
              "blockSize must be a power of two from 32 to 4096, got " + blockSize);
        }
      }
      case RANK1 -> {
        Objects.requireNonNull(book, "book");
        if (blockSize != 0) {
          throw new IllegalArgumentException("RANK1 state takes no block size, got " + blockSize);
        }
      }
    }
  }

  /**
   * Float32 state, not quantized.
   *
   * @return the format
   */
  public static StateFormat float32() {
    return new StateFormat(Normalization.FLOAT32, null, 0);
  }

  /**
   * Block-wise absmax quantization.
   *
   * @param book the code book
   * @param blockSize a power of two from 32 to 4096
   * @return the format
   */
  public static StateFormat blockwise(CodeBook book, int blockSize) {
    return new StateFormat(Normalization.BLOCKWISE, book, blockSize);
  }

  /**
   * Rank-1 normalization (second moment of tensors of rank 2 or more).
   *
   * @param book the code book
   * @return the format
   */
  public static StateFormat rank1(CodeBook book) {
    return new StateFormat(Normalization.RANK1, book, 0);
  }

  /**
   * Factorized float32 row and column statistics (second moment only).
   *
   * @return the format
   */
  public static StateFormat factorized() {
    return new StateFormat(Normalization.FACTORIZED, null, 0);
  }

  /**
   * Whether the state is kept in codes (anything but {@link Normalization#FLOAT32} and
   * {@link Normalization#FACTORIZED}).
   *
   * @return true for block-wise and rank-1 formats
   */
  public boolean quantized() {
    return book != null;
  }

  /**
   * The format actually used for a tensor of this shape: rank-1 and factorized formats need rank
   * 2 or more and otherwise fall back to block-wise with B = {@value #FALLBACK_BLOCK_SIZE}.
   *
   * @param shape the parameter's shape
   * @return the format to allocate
   */
  public StateFormat resolve(long[] shape) {
    if (shape.length >= 2) {
      return this;
    }
    return switch (normalization) {
      case RANK1 -> blockwise(book, FALLBACK_BLOCK_SIZE);
      case FACTORIZED -> blockwise(CodeBook.LINEAR_4, FALLBACK_BLOCK_SIZE);
      default -> this;
    };
  }

  @Override
  public String toString() {
    return switch (normalization) {
      case FLOAT32 -> "float32";
      case FACTORIZED -> "factorized";
      case BLOCKWISE -> book.name() + "/B" + blockSize;
      case RANK1 -> book.name() + "/rank-1";
    };
  }
}
