package dev.lowbit.bench.memory;

/**
 * How one optimizer moment is stored, for counting its bytes (docs/algorithms.md sections 2 and 3).
 * This is the benchmark's own description, deliberately independent of the core's classes, so
 * that comparing it with the core's measured {@code stateBytes()} checks both.
 *
 * @param kind the normalization
 * @param bits bits per code (8 or 4) for quantized kinds; 32 for {@code FLOAT32}; 0 for {@code
 *     FACTORIZED}
 * @param blockSize elements per block for {@code BLOCKWISE}; 0 otherwise
 */
public record MomentLayout(Kind kind, int bits, int blockSize) {

  /** Block size of the fallback for rank-1 and factorized moments on vectors. */
  static final int FALLBACK_BLOCK = 128;

  /** Where a moment's scales come from. */
  public enum Kind {
    /** One float32 per element. */
    FLOAT32,
    /** Codes plus one float32 scale per block. */
    BLOCKWISE,
    /** Codes plus float32 row and column maxima (per-dimension maxima for rank above 2). */
    RANK1,
    /** Float32 row and column statistics only (Adafactor-style). */
    FACTORIZED
  }

  /** Float32: 4 bytes per element. */
  public static final MomentLayout FLOAT32 = new MomentLayout(Kind.FLOAT32, 32, 0);

  /**
   * Block-wise quantized.
   *
   * @param bits 8 or 4
   * @param blockSize elements per block
   * @return the layout
   */
  public static MomentLayout blockwise(int bits, int blockSize) {
    return new MomentLayout(Kind.BLOCKWISE, bits, blockSize);
  }

  /**
   * Exact bytes of this moment for one tensor that is quantized (not below the small-tensor
   * threshold):
   *
   * <ul>
   *   <li>float32: {@code 4 n}
   *   <li>block-wise: {@code ceil(n bits / 8) + 4 ceil(n / B)}
   *   <li>rank-1, rank 2 ({@code r x c}): {@code ceil(n bits / 8) + 4 (r + c)}; rank above 2:
   *       {@code ceil(n bits / 8) + 4 sum(dims)}: one max vector per dimension (docs/algorithms.md
   *       section 2); the row scales the core derives for its {@code (n / last) x last} view are
   *       per-step workspace, not state; vectors: block-wise with B = 128
   *   <li>factorized, {@code batch x r x c}: {@code 4 batch (r + c)}; vectors: 4-bit block-wise
   *       with B = 128
   * </ul>
   *
   * @param dims the tensor's sizes
   * @return the bytes
   * @throws ArithmeticException if the bytes (or an intermediate count) exceed {@code
   *     Long.MAX_VALUE}
   */
  public long bytes(long[] dims) {
    long n = 1;
    for (long d : dims) {
      n = Math.multiplyExact(n, d);
    }
    return switch (kind) {
      case FLOAT32 -> Math.multiplyExact(4, n);
      case BLOCKWISE ->
          Math.addExact(codeBytes(n, bits), Math.multiplyExact(4, ceilDiv(n, blockSize)));
      case RANK1 -> {
        if (dims.length < 2) {
          yield blockwise(bits, FALLBACK_BLOCK).bytes(dims);
        }
        long scales = 0;
        for (long d : dims) {
          scales = Math.addExact(scales, d);
        }
        // Above rank 2 the core's per-row scales for its (product of leading dims) x (last dim)
        // view are derived per step into workspace that is not state, so only the vectors count.
        yield Math.addExact(codeBytes(n, bits), Math.multiplyExact(4, scales));
      }
      case FACTORIZED -> {
        if (dims.length < 2) {
          yield blockwise(4, FALLBACK_BLOCK).bytes(dims);
        }
        long rows = dims[dims.length - 2];
        long cols = dims[dims.length - 1];
        long batch = n / (rows * cols); // rows * cols divides n, so it does not overflow
        yield Math.multiplyExact(Math.multiplyExact(4, batch), Math.addExact(rows, cols));
      }
    };
  }

  private static long codeBytes(long n, int bits) {
    return ceilDiv(Math.multiplyExact(n, bits), 8);
  }

  private static long ceilDiv(long a, long b) {
    return Math.ceilDiv(a, b);
  }

  @Override
  public String toString() {
    return switch (kind) {
      case FLOAT32 -> "float32";
      case BLOCKWISE -> bits + "-bit B" + blockSize;
      case RANK1 -> bits + "-bit rank-1";
      case FACTORIZED -> "factorized";
    };
  }
}
