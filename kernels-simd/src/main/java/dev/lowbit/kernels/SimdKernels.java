package dev.lowbit.kernels;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API implementation: the same bytes as {@link ScalarKernels} for every method, state
 * combination, segment kind and thread count, computed with vectors of 128, 256 or 512 bits.
 *
 * <p>Work is cut into the scalar reference's chunks of {@link SquareSums#CHUNK} elements (the unit
 * split over threads), and each chunk into tiles of whole blocks (at least {@value #MIN_TILE}
 * elements). Per tile, in one pass over the tensor's memory: decode the old moments into small
 * float tiles that stay in the L1 cache, run the update (writing the parameter and the new
 * moments into the tiles), then per block compute the new scale {@code max |x|} and requantize.
 * When both moments are float32 they are updated in place, without tiles (a float32 moment next
 * to a quantized one is copied through a tile). A rank-1 second moment first needs its new
 * maxima ({@link SimdRank1Maxima}); a factorized one first updates its statistics
 * ({@link SimdFactorizedStats}).
 *
 * <p>Code-book encoding is vectorized too: see {@link SimdCodeBook}.
 */
public final class SimdKernels implements OptimizerKernels {

  /** Smallest tile: large enough to amortize per-tile work, small enough for L1. */
  private static final int MIN_TILE = 1024;

  private static final ByteOrder ORDER = ByteOrder.nativeOrder();

  private final SimdShape shape;

  /**
   * The kernels at the default width: {@code -Ddev.lowbit.kernels.simd.bits} if set, else the
   * platform's preferred vector width (at most 512 bits).
   *
   * @throws IllegalArgumentException if the property is not 128, 256 or 512
   * @throws UnsupportedOperationException if the platform's vectors are narrower than 128 bits
   */
  public SimdKernels() {
    this(SimdShape.defaultBits());
  }

  /**
   * The kernels at a given width (tests use this to run the narrower paths on a wide machine).
   *
   * @param vectorBits 128, 256 or 512
   * @throws IllegalArgumentException for any other width
   */
  public SimdKernels(int vectorBits) {
    this.shape = SimdShape.of(vectorBits);
  }

  @Override
  public String name() {
    return "simd-" + shape.bits();
  }

  @Override
  public long firstBeyond(MemorySegment values, long length, float limit) {
    // Magnitudes compare as their bit patterns (sign cleared): NaN's lie above infinity's, so
    // "bits above the limit's bits" is exactly the scalar "!(|x| <= limit)".
    int limitBits = Float.floatToRawIntBits(ScalarKernels.checkLimit(limit));
    VectorSpecies<Float> floats = shape.floats();
    long bound = floats.loopBound(length);
    long i = 0;
    for (; i < bound; i += floats.length()) {
      IntVector magnitude =
          FloatVector.fromMemorySegment(floats, values, i * Float.BYTES, ORDER)
              .reinterpretAsInts()
              .and(0x7FFFFFFF);
      VectorMask<Integer> bad = magnitude.compare(VectorOperators.GT, limitBits);
      if (bad.anyTrue()) {
        return i + bad.firstTrue();
      }
    }
    return ScalarKernels.firstBeyond(values, i, length, limit);
  }

  @Override
  public double sumOfSquares(MemorySegment values, long length, int threads) {
    return SquareSums.total(
        values, length, threads,
        (start, n, scratch) -> SimdSquareSums.chunk(shape, values, start, n, scratch));
  }

  @Override
  public void adam(
      AdamScalars s,
      MemorySegment param,
      MemorySegment grad,
      long length,
      MomentState m,
      MomentState v,
      int threads,
      MemorySegment clear) {
    MomentChunks.of(m, "m"); // the scalar reference's check of m, with its message
    int usable = KernelPool.usable(threads, Segments.of(param, grad, clear, m, v));
    if (length == 0) {
      return;
    }
    float[] oldRows = null;
    float[] oldCols = null;
    float[] newRows = null;
    float[] newCols = null;
    float[] meanRow = null;
    switch (v) {
      case Rank1Moment r -> {
        oldRows = floats(r.rowScales(), r.rows());
        oldCols = floats(r.colScales(), r.cols());
        Rank1Maxima.Scales scales =
            SimdRank1Maxima.compute(shape, s, param, grad, r, oldRows, oldCols, length, usable);
        newRows = scales.rows();
        newCols = scales.cols();
      }
      case FactorizedMoment f ->
          meanRow = SimdFactorizedStats.update(shape, s, param, grad, f, usable);
      default -> MomentChunks.of(v, "v");
    }
    int tile = tileSize(m, v);
    float[] rows = newRows;
    float[] cols = newCols;
    float[] previousRows = oldRows;
    float[] previousCols = oldCols;
    float[] means = meanRow;
    boolean clearInEncoder = m instanceof BlockwiseMoment;
    KernelPool.forEachChunk(
        length,
        usable,
        () -> new Scratch(tile),
        clearInEncoder ? null : clear,
        (chunkStart, chunkLength, scratch) -> {
          for (int off = 0; off < chunkLength; off += tile) {
            adamTile(
                s, param, grad, chunkStart + off, Math.min(tile, chunkLength - off), m, v,
                previousRows, previousCols, rows, cols, means, scratch,
                clearInEncoder ? clear : null);
          }
        });
    Codes.clearPadding(m, length);
    Codes.clearPadding(v, length);
    if (v instanceof Rank1Moment r) {
      MemorySegment.copy(newRows, 0, r.rowScales(), Codes.FLOAT, 0, newRows.length);
      MemorySegment.copy(newCols, 0, r.colScales(), Codes.FLOAT, 0, newCols.length);
    }
  }

  /**
   * One tile of an Adam step: decode, update, requantize; {@code clear} (if not null) is cleared
   * over the tile by m's encoder, where its stores overlap arithmetic ({@link SimdCodeBook}).
   */
  private void adamTile(
      AdamScalars s,
      MemorySegment param,
      MemorySegment grad,
      long start,
      int n,
      MomentState m,
      MomentState v,
      float[] oldRows,
      float[] oldCols,
      float[] newRows,
      float[] newCols,
      float[] meanRow,
      Scratch t,
      MemorySegment clear) {
    if (m instanceof Fp32Moment fm && v instanceof Fp32Moment fv) {
      SimdUpdate.adamFp32(shape, s, param, grad, start, n, fm.values(), fv.values());
      return;
    }
    switch (m) {
      case Fp32Moment f ->
          MemorySegment.copy(f.values(), Codes.FLOAT, start * Float.BYTES, t.m, 0, n);
      case BlockwiseMoment b -> SimdMomentTiles.loadBlockwise(shape, b, start, n, t.m, t.index);
      default -> throw new IllegalStateException("checked by MomentChunks.of");
    }
    switch (v) {
      case Fp32Moment f ->
          MemorySegment.copy(f.values(), Codes.FLOAT, start * Float.BYTES, t.v, 0, n);
      case BlockwiseMoment b -> SimdMomentTiles.loadBlockwise(shape, b, start, n, t.v, t.index);
      case Rank1Moment r ->
          SimdMomentTiles.loadRank1(shape, r, oldRows, oldCols, start, n, t.v, t.scales, t.index);
      case FactorizedMoment f -> SimdMomentTiles.loadFactorized(shape, f, meanRow, start, n, t.v);
    }
    SimdUpdate.adam(shape, s, param, grad, start, n, t.m, t.v, v instanceof FactorizedMoment);
    switch (m) {
      case Fp32Moment f ->
          MemorySegment.copy(t.m, 0, f.values(), Codes.FLOAT, start * Float.BYTES, n);
      case BlockwiseMoment b ->
          SimdMomentTiles.storeBlockwise(shape, b, start, n, t.m, t.index, clear);
      default -> throw new IllegalStateException("checked by MomentChunks.of");
    }
    switch (v) {
      case Fp32Moment f ->
          MemorySegment.copy(t.v, 0, f.values(), Codes.FLOAT, start * Float.BYTES, n);
      case BlockwiseMoment b ->
          SimdMomentTiles.storeBlockwise(shape, b, start, n, t.v, t.index, null);
      case Rank1Moment r ->
          SimdMomentTiles.storeRank1(shape, r, start, n, t.v, newRows, newCols, t.scales, t.index);
      case FactorizedMoment f -> {
        // The statistics were updated before the pass; v itself is never stored.
      }
    }
  }

  @Override
  public void sgd(
      SgdScalars s,
      MemorySegment param,
      MemorySegment grad,
      long length,
      MomentState buffer,
      int threads,
      MemorySegment clear) {
    MomentChunks.of(buffer, "buffer");
    int usable = KernelPool.usable(threads, Segments.of(param, grad, clear, buffer));
    int tile = tileSize(buffer, buffer);
    boolean clearInEncoder = buffer instanceof BlockwiseMoment;
    KernelPool.forEachChunk(
        length,
        usable,
        () -> new Scratch(tile),
        clearInEncoder ? null : clear,
        (chunkStart, chunkLength, scratch) -> {
          for (int off = 0; off < chunkLength; off += tile) {
            sgdTile(
                s, param, grad, chunkStart + off, Math.min(tile, chunkLength - off), buffer,
                scratch, clearInEncoder ? clear : null);
          }
        });
    Codes.clearPadding(buffer, length);
  }

  private void sgdTile(
      SgdScalars s,
      MemorySegment param,
      MemorySegment grad,
      long start,
      int n,
      MomentState buffer,
      Scratch t,
      MemorySegment clear) {
    if (buffer instanceof Fp32Moment f) {
      SimdUpdate.sgdFp32(shape, s, param, grad, start, n, f.values());
      return;
    }
    BlockwiseMoment b = (BlockwiseMoment) buffer;
    if (!s.firstStep()) {
      SimdMomentTiles.loadBlockwise(shape, b, start, n, t.m, t.index);
    }
    SimdUpdate.sgd(shape, s, param, grad, start, n, t.m);
    SimdMomentTiles.storeBlockwise(shape, b, start, n, t.m, t.index, clear);
  }

  /** A copy of the first {@code count} floats of a segment. */
  private static float[] floats(MemorySegment segment, long count) {
    float[] out = new float[Math.toIntExact(count)];
    MemorySegment.copy(segment, Codes.FLOAT, 0, out, 0, out.length);
    return out;
  }

  /** Tile length: whole blocks of both moments, at least {@link #MIN_TILE}, at most a chunk. */
  private static int tileSize(MomentState m, MomentState v) {
    int tile = MIN_TILE;
    if (m instanceof BlockwiseMoment b) {
      tile = Math.max(tile, b.blockSize());
    }
    if (v instanceof BlockwiseMoment b) {
      tile = Math.max(tile, b.blockSize());
    }
    return Math.min(tile, SquareSums.CHUNK);
  }

  /** One worker's tiles: decoded moments, element scales and gather indices. */
  private static final class Scratch {
    final float[] m;
    final float[] v;
    final float[] scales;
    final int[] index;

    Scratch(int tile) {
      m = new float[tile];
      v = new float[tile];
      scales = new float[tile];
      index = new int[tile];
    }
  }
}
