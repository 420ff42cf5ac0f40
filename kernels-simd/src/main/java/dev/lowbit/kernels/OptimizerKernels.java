package dev.lowbit.kernels;

import java.lang.foreign.MemorySegment;

/**
 * The element loops of every optimizer step: one fused pass per block (dequantize, update the
 * moments, update the parameter, compute the block's new scale from the new values, requantize).
 * Implementations: the scalar reference, and a Vector API one that writes the same bytes. Get the
 * active one from {@link Kernels#get()}.
 *
 * <p>Parameters and gradients are {@code length} float32 values in native byte order, in heap or
 * native segments. Kernels do not validate finiteness or sizes: the optimizer checks first, so
 * that a rejected step writes nothing. Every method gives identical results for every
 * {@code threads} value; a call that touches a segment confined to one thread (a confined
 * arena's) runs on the caller's thread. A {@code threads} below 1 is refused with an
 * {@link IllegalArgumentException} before anything is written.
 */
public interface OptimizerKernels {

  /**
   * A short name of the implementation, such as {@code "scalar"} or {@code "simd-256"}.
   *
   * @return the name
   */
  String name();

  /**
   * Index of the first element that is NaN or whose magnitude exceeds {@code limit}, or -1 when
   * every element {@code x} has {@code |x| <= limit}. With {@code Float.MAX_VALUE} it finds the
   * first NaN or infinity.
   *
   * @param values the floats to check
   * @param length number of floats
   * @param limit the largest magnitude accepted, {@code >= 0}
   * @return the first bad index, or -1
   */
  long firstBeyond(MemorySegment values, long length, float limit);

  /**
   * {@link #firstBeyond(MemorySegment, long, float)} scanned by up to {@code threads} worker
   * threads (the answer does not depend on the thread count).
   *
   * @param values the floats to check
   * @param length number of floats
   * @param limit the largest magnitude accepted, {@code >= 0}
   * @param threads worker threads to use (1 or more)
   * @return the first bad index, or -1
   */
  default long firstBeyond(MemorySegment values, long length, float limit, int threads) {
    return NonFiniteScan.first(this, values, length, limit, threads);
  }

  /**
   * Index of the first NaN or infinite element, or -1 when all are finite.
   *
   * @param values the floats to check
   * @param length number of floats
   * @return the first bad index, or -1
   */
  default long firstNonFinite(MemorySegment values, long length) {
    return firstBeyond(values, length, Float.MAX_VALUE);
  }

  /**
   * Index of the first NaN or infinite element, or -1 when all are finite, scanned by up to
   * {@code threads} worker threads (the answer does not depend on the thread count).
   *
   * @param values the floats to check
   * @param length number of floats
   * @param threads worker threads to use (1 or more)
   * @return the first bad index, or -1
   */
  default long firstNonFinite(MemorySegment values, long length, int threads) {
    return firstBeyond(values, length, Float.MAX_VALUE, threads);
  }

  /**
   * Sum of squares in double, in a fixed summation order that does not depend on the
   * implementation or the thread count (so clipping factors are identical everywhere). The order:
   * the values are cut into chunks of 4096 from index 0; within a chunk, the element at offset
   * {@code k} is added to lane {@code k % 16} of 16 double accumulators starting at {@code 0.0},
   * in increasing {@code k} ({@code lane += (double) x * (double) x}); a chunk's sum is
   * {@code 0.0 + lane0 + lane1 + ... + lane15}, added left to right; the result is {@code 0.0}
   * plus the chunk sums, left to right in chunk order.
   *
   * @param values the floats
   * @param length number of floats
   * @param threads worker threads to use (1 or more)
   * @return the sum of {@code values[i]^2}
   */
  double sumOfSquares(MemorySegment values, long length, int threads);

  /**
   * One Adam/AdamW step over a whole tensor (see {@link AdamScalars} for the formula).
   *
   * @param s the step's scalars
   * @param param the parameter, updated in place
   * @param grad the gradient (read only)
   * @param length number of elements
   * @param m first moment: {@link Fp32Moment} or {@link BlockwiseMoment}
   * @param v second moment: any {@link MomentState}
   * @param threads worker threads to use (1 or more)
   */
  default void adam(
      AdamScalars s,
      MemorySegment param,
      MemorySegment grad,
      long length,
      MomentState m,
      MomentState v,
      int threads) {
    adam(s, param, grad, length, m, v, threads, null);
  }

  /**
   * One Adam/AdamW step that also sets {@code clear} to zero in the same pass: each chunk of
   * {@code clear} is zeroed after the pass has read that chunk of the gradient, on the same
   * worker thread (the SIMD kernels with a quantized m do it inside m's encoder, where the stores
   * overlap arithmetic). A framework that must reset its gradient accumulator after the update
   * (DJL's contract) saves a separate pass over it. Everything else is as in the method without
   * {@code clear}.
   *
   * @param s the step's scalars
   * @param param the parameter, updated in place
   * @param grad the gradient (read only, unless it is {@code clear})
   * @param length number of elements
   * @param m first moment: {@link Fp32Moment} or {@link BlockwiseMoment}
   * @param v second moment: any {@link MomentState}
   * @param threads worker threads to use (1 or more)
   * @param clear null, or a writable segment of at least {@code length} floats to set to zero
   *     (it may be {@code grad} itself)
   */
  void adam(
      AdamScalars s,
      MemorySegment param,
      MemorySegment grad,
      long length,
      MomentState m,
      MomentState v,
      int threads,
      MemorySegment clear);

  /**
   * One SGD-with-momentum step over a whole tensor (see {@link SgdScalars}).
   *
   * @param s the step's scalars
   * @param param the parameter, updated in place
   * @param grad the gradient (read only)
   * @param length number of elements
   * @param buffer the momentum buffer: {@link Fp32Moment} or {@link BlockwiseMoment}
   * @param threads worker threads to use (1 or more)
   */
  default void sgd(
      SgdScalars s,
      MemorySegment param,
      MemorySegment grad,
      long length,
      MomentState buffer,
      int threads) {
    sgd(s, param, grad, length, buffer, threads, null);
  }

  /**
   * One SGD-with-momentum step that also sets {@code clear} to zero in the same pass, as
   * {@link #adam(AdamScalars, MemorySegment, MemorySegment, long, MomentState, MomentState, int,
   * MemorySegment)} does.
   *
   * @param s the step's scalars
   * @param param the parameter, updated in place
   * @param grad the gradient (read only, unless it is {@code clear})
   * @param length number of elements
   * @param buffer the momentum buffer: {@link Fp32Moment} or {@link BlockwiseMoment}
   * @param threads worker threads to use (1 or more)
   * @param clear null, or a writable segment of at least {@code length} floats to set to zero
   *     (it may be {@code grad} itself)
   */
  void sgd(
      SgdScalars s,
      MemorySegment param,
      MemorySegment grad,
      long length,
      MomentState buffer,
      int threads,
      MemorySegment clear);
}
