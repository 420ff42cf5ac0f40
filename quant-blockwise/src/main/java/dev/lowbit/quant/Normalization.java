package dev.lowbit.quant;

import java.util.Arrays;
import java.util.Objects;

/**
 * Where the scale of each element comes from. The quantized value of {@code x} is
 * {@code book.encode(x / scale)} (or {@code book.encode(0f)} when the scale is 0) and it decodes to
 * {@code book.value(code) * scale}; a normalization only decides {@code scale}.
 *
 * <ul>
 *   <li>{@link BlockWise}: the flattened tensor is cut into blocks of {@code blockSize} elements
 *       (the last one may be partial); one float32 scale per block, {@code max |x|} over it.
 *   <li>{@link Rank1}: for a tensor of rank {@code k >= 2}, one max vector per dimension,
 *       {@code s_d[a] = max |x|} over all elements whose index in dimension {@code d} is {@code a};
 *       the scale of element {@code (a_0, ..., a_{k-1})} is {@code min_d s_d[a_d]}. For a matrix
 *       this is {@code min(rowMax_i, colMax_j)}. Tensors of rank 0 or 1 fall back to block-wise
 *       with blocks of 128 ({@link #resolve}).
 *   <li>{@link PerTensor}: one scale, {@code max |x|} over the whole tensor.
 * </ul>
 */
public sealed interface Normalization
    permits Normalization.BlockWise, Normalization.Rank1, Normalization.PerTensor {

  /** The smallest allowed block size. */
  int MIN_BLOCK_SIZE = 32;

  /** The largest allowed block size. */
  int MAX_BLOCK_SIZE = 4096;

  /** The block size rank-1 normalization falls back to for tensors of rank 0 or 1. */
  int RANK1_FALLBACK_BLOCK_SIZE = 128;

  /**
   * Block-wise absmax normalization.
   *
   * @param blockSize a power of two from 32 to 4096
   * @return the normalization
   * @throws IllegalArgumentException if {@code blockSize} is not such a power of two
   */
  static BlockWise blockWise(int blockSize) {
    return new BlockWise(blockSize);
  }

  /**
   * Rank-1 normalization (per-dimension max vectors).
   *
   * @return the normalization
   */
  static Rank1 rank1() {
    return Rank1.INSTANCE;
  }

  /**
   * Per-tensor absmax normalization.
   *
   * @return the normalization
   */
  static PerTensor perTensor() {
    return PerTensor.INSTANCE;
  }

  /**
   * The normalization actually used for a tensor of this shape: {@code this}, except that
   * {@link Rank1} on a tensor of rank 0 or 1 becomes {@code blockWise(128)}.
   *
   * @param shape the tensor's dimensions
   * @return the effective normalization
   */
  default Normalization resolve(long[] shape) {
    return this;
  }

  /**
   * The number of float32 scales stored for a tensor of this shape (after {@link #resolve}).
   *
   * @param shape the tensor's dimensions (each {@code >= 0})
   * @return the scale count
   * @throws IllegalArgumentException if a dimension is negative, or the element count or (rank-1)
   *     the sum of the dimensions overflows a long
   */
  long scaleCount(long[] shape);

  /**
   * A short, stable name, for example {@code "B256"}, {@code "Rank-1"} or {@code "PerTensor"}.
   *
   * @return the name
   */
  String label();

  /**
   * Block-wise absmax: one scale per block of {@code blockSize} consecutive elements of the
   * flattened tensor; {@code ceil(length / blockSize)} scales.
   *
   * @param blockSize a power of two from 32 to 4096
   */
  record BlockWise(int blockSize) implements Normalization {

    /**
     * Checks the block size.
     *
     * @param blockSize a power of two from 32 to 4096
     * @throws IllegalArgumentException otherwise
     */
    public BlockWise {
      if (blockSize < MIN_BLOCK_SIZE
          || blockSize > MAX_BLOCK_SIZE
          || Integer.bitCount(blockSize) != 1) {
        throw new IllegalArgumentException(
            "blockSize must be a power of two from " + MIN_BLOCK_SIZE + " to " + MAX_BLOCK_SIZE
                + ", got " + blockSize);
      }
    }

    /**
     * The number of blocks for {@code length} elements: {@code ceil(length / blockSize)}, for
     * every {@code length} up to {@code Long.MAX_VALUE}.
     *
     * @param length the element count ({@code >= 0})
     * @return the block count
     * @throws IllegalArgumentException if {@code length} is negative
     */
    public long blockCount(long length) {
      if (length < 0) {
        throw new IllegalArgumentException("length must be >= 0, got " + length);
      }
      // Not (length + blockSize - 1) / blockSize: that overflows for lengths near Long.MAX_VALUE.
      return length / blockSize + (length % blockSize == 0 ? 0 : 1);
    }

    @Override
    public long scaleCount(long[] shape) {
      return blockCount(Shapes.elementCount(shape));
    }

    @Override
    public String label() {
      return "B" + blockSize;
    }
  }

  /** Rank-1 normalization: one max vector per dimension, {@code sum(shape)} scales. */
  final class Rank1 implements Normalization {
    private static final Rank1 INSTANCE = new Rank1();

    private Rank1() {}

    @Override
    public Normalization resolve(long[] shape) {
      return Objects.requireNonNull(shape, "shape").length < 2
          ? new BlockWise(RANK1_FALLBACK_BLOCK_SIZE)
          : this;
    }

    @Override
    public long scaleCount(long[] shape) {
      Normalization effective = resolve(shape);
      if (effective != this) {
        return effective.scaleCount(shape);
      }
      Shapes.elementCount(shape);
      long sum = 0;
      for (long d : shape) {
        if (d > Long.MAX_VALUE - sum) {
          throw new IllegalArgumentException(
              "shape " + Arrays.toString(shape)
                  + ": the rank-1 scale count (the sum of the dimensions) overflows a long");
        }
        sum += d;
      }
      return sum;
    }

    @Override
    public String label() {
      return "Rank-1";
    }

    @Override
    public String toString() {
      return "Rank1";
    }
  }

  /** Per-tensor absmax: a single scale (0 for an empty or all-zero tensor). */
  final class PerTensor implements Normalization {
    private static final PerTensor INSTANCE = new PerTensor();

    private PerTensor() {}

    @Override
    public long scaleCount(long[] shape) {
      Shapes.elementCount(shape);
      return 1;
    }

    @Override
    public String label() {
      return "PerTensor";
    }

    @Override
    public String toString() {
      return "PerTensor";
    }
  }
}
