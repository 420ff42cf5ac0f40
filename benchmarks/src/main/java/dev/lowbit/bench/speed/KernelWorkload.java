package dev.lowbit.bench.speed;

import dev.lowbit.kernels.AdamScalars;
import dev.lowbit.kernels.BlockwiseMoment;
import dev.lowbit.kernels.FactorizedMoment;
import dev.lowbit.kernels.Fp32Moment;
import dev.lowbit.kernels.MomentState;
import dev.lowbit.kernels.OptimizerKernels;
import dev.lowbit.kernels.Rank1Moment;
import dev.lowbit.kernels.SgdScalars;
import dev.lowbit.quant.CodeBook;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

/**
 * One tensor with its gradient and optimizer state, ready for repeated kernel steps: what the
 * JMH suite and {@code lowbit speed} time. The state is built directly from the kernel records
 * (no optimizer bookkeeping), in heap arrays or in native memory from a shared arena.
 */
public final class KernelWorkload implements AutoCloseable {

  /** The optimizers measured. */
  public enum Optimizer {
    /** AdamW (decoupled weight decay). */
    ADAMW,
    /** SGD with momentum. */
    SGDM
  }

  /** AdamW at step 10 with the default hyperparameters (lr 1e-3, wd 1e-2). */
  private static final AdamScalars ADAMW =
      new AdamScalars(
          0.9f,
          0.999f,
          (float) (1e-3 / (1 - Math.pow(0.9, 10))),
          (float) (1 / Math.sqrt(1 - Math.pow(0.999, 10))),
          1e-8f,
          1e-5f,
          0f,
          1f,
          0f);

  private static final SgdScalars SGDM = new SgdScalars(1e-2f, 0.9f, false, 0f, 1f, 0f, false);

  private final Optimizer optimizer;
  private final long size;
  private final Arena arena;
  private final MemorySegment param;
  private final MemorySegment grad;
  private final MomentState first;
  private final MomentState second;

  private KernelWorkload(Optimizer optimizer, StateKind state, int size, boolean nativeMemory) {
    this.optimizer = optimizer;
    this.size = size;
    this.arena = nativeMemory ? Arena.ofShared() : null;
    SplittableRandom random = new SplittableRandom(42);
    float[] p = new float[size];
    float[] g = new float[size];
    for (int i = 0; i < size; i++) {
      p[i] = (float) random.nextGaussian();
      g[i] = (float) (random.nextGaussian() * 1e-2);
    }
    param = floats(p);
    grad = floats(g);
    int rows = rowsOf(size);
    int cols = size / rows;
    switch (state) {
      case FP32 -> {
        first = new Fp32Moment(floats(new float[size]));
        second = new Fp32Moment(floats(new float[size]));
      }
      case BIT8 -> {
        first = blockwise(CodeBook.DYNAMIC_SIGNED_8, 256, size);
        second = blockwise(CodeBook.DYNAMIC0_UNSIGNED_8, 256, size);
      }
      case BIT4 -> {
        first = blockwise(CodeBook.DE1_SIGNED_4, 128, size);
        second =
            new Rank1Moment(
                CodeBook.LINEAR_4, rows, cols, bytes((size + 1) / 2), floats(new float[rows]),
                floats(new float[cols]));
      }
      case BIT4_FACTORIZED -> {
        first = blockwise(CodeBook.DE1_SIGNED_4, 128, size);
        second =
            new FactorizedMoment(1, rows, cols, floats(new float[rows]), floats(new float[cols]));
      }
      default -> throw new IllegalArgumentException("state " + state);
    }
  }

  /**
   * Allocates a workload.
   *
   * @param optimizer AdamW (m and v) or SGD-momentum (one buffer: the first moment's format)
   * @param state the state format
   * @param size number of parameters
   * @param nativeMemory native segments (shared arena) instead of heap arrays
   * @return the workload; close it to free native memory
   */
  public static KernelWorkload create(
      Optimizer optimizer, StateKind state, int size, boolean nativeMemory) {
    if (size < 1) {
      throw new IllegalArgumentException("size must be at least 1, got " + size);
    }
    return new KernelWorkload(optimizer, state, size, nativeMemory);
  }

  /**
   * Runs one optimizer step over the whole tensor.
   *
   * @param kernels the implementation to time
   * @param threads worker threads
   */
  public void step(OptimizerKernels kernels, int threads) {
    if (optimizer == Optimizer.ADAMW) {
      kernels.adam(ADAMW, param, grad, size, first, second, threads);
    } else {
      kernels.sgd(SGDM, param, grad, size, first, threads);
    }
  }

  /**
   * The gradient, for measuring the non-finite check on the same data.
   *
   * @return the gradient segment
   */
  public MemorySegment gradient() {
    return grad;
  }

  /**
   * Number of parameters.
   *
   * @return the size
   */
  public long size() {
    return size;
  }

  /** The rank-1 and factorized states view the tensor as the squarest matrix it allows. */
  static int rowsOf(int size) {
    int rows = (int) Math.sqrt(size);
    while (size % rows != 0) {
      rows--;
    }
    return rows;
  }

  private BlockwiseMoment blockwise(CodeBook book, int blockSize, int size) {
    long codeBytes = book.bits() == 8 ? size : (size + 1) / 2;
    return new BlockwiseMoment(
        book, blockSize, bytes(codeBytes), floats(new float[(size + blockSize - 1) / blockSize]));
  }

  private MemorySegment floats(float[] values) {
    if (arena == null) {
      return MemorySegment.ofArray(values);
    }
    MemorySegment s = arena.allocate(values.length * 4L, 64);
    MemorySegment.copy(values, 0, s, java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, values.length);
    return s;
  }

  private MemorySegment bytes(long count) {
    return arena == null
        ? MemorySegment.ofArray(new byte[Math.toIntExact(count)])
        : arena.allocate(count, 64);
  }

  @Override
  public void close() {
    if (arena != null) {
      arena.close();
    }
  }
}
