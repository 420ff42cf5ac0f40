package dev.lowbit.djl;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Reaches the float32 values of DJL tensors: in place where the engine exposes the tensor's own
 * memory, through a copy otherwise.
 *
 * <p>{@code toByteBuffer(true)} returns the tensor's own storage only for a dense, contiguous
 * CPU tensor; for anything else the PyTorch engine silently returns a fresh contiguous copy, and
 * writes to it would be lost. The NDArray API does not expose contiguity, so {@link #ownMemory}
 * asks twice: the tensor's own storage has one address, two fresh copies have two. Call these
 * methods with the arrays temporarily attached to a scratch manager, so that such copies are
 * freed when the update ends.
 */
final class TensorMemory {

  private TensorMemory() {}

  /**
   * Whether the tensor is of the kind whose memory can be used in place: dense float32 on the
   * CPU (contiguity is checked by {@link #ownMemory}).
   *
   * @param array the tensor
   * @return true for a dense CPU float32 tensor
   */
  static boolean isCpuFloat32(NDArray array) {
    return array.getDataType() == DataType.FLOAT32
        && !array.isSparse()
        && Device.cpu().equals(array.getDevice());
  }

  /**
   * The tensor's own float32 storage, to read and write in place, or {@code null} when the tensor
   * is not a dense contiguous CPU float32 tensor.
   *
   * @param array the tensor
   * @return its memory ({@code 4 * size} bytes, native order), or null
   */
  static MemorySegment ownMemory(NDArray array) {
    if (!isCpuFloat32(array)) {
      return null;
    }
    MemorySegment first = MemorySegment.ofBuffer(array.toByteBuffer(true));
    MemorySegment second = MemorySegment.ofBuffer(array.toByteBuffer(true));
    // A heap buffer's address is its offset in its array: 0 for any two fresh copies.
    boolean same = first.isNative() && first.address() == second.address();
    return same && first.byteSize() == array.size() * Float.BYTES ? first : null;
  }

  /**
   * Why the update could not step this tensor, or null if it can: it must hold floating-point
   * values.
   *
   * @param array the tensor
   * @return the reason, or null
   */
  static String whyNotFloating(NDArray array) {
    return array.getDataType().isFloating()
        ? null
        : "its data type is " + array.getDataType()
            + "; LowBit updates floating-point tensors only";
  }

  /**
   * Why {@link #copyIn} could not write this tensor back, or null if it can: a tensor stepped
   * through a copy must accept writes through indexed assignment (a broadcast view, whose
   * elements share memory, does not). The check writes the tensor's own values back into it,
   * which changes nothing.
   *
   * @param array a tensor that is not stepped in its own memory
   * @return the reason, or null
   */
  static String whyNotWritableBack(NDArray array) {
    try {
      array.set(new NDIndex("..."), array.duplicate());
      return null;
    } catch (RuntimeException e) {
      String message = String.valueOf(e.getMessage()).lines().findFirst().orElse("");
      return "the engine refuses to write it in place (" + message + ")";
    }
  }

  /**
   * The address of the tensor's storage as {@code toByteBuffer(true)} reports it now. Equal to a
   * segment from {@link #ownMemory} as long as the tensor still owns that storage.
   *
   * @param array a CPU float32 tensor
   * @return the native address
   */
  static long currentAddress(NDArray array) {
    return MemorySegment.ofBuffer(array.toByteBuffer(true)).address();
  }

  /**
   * Copies the tensor's values, converted to float32, in row-major order into {@code dst}.
   * Works for any device, dtype and layout.
   *
   * @param array the tensor
   * @param dst at least {@code size} floats
   */
  static void copyOut(NDArray array, MemorySegment dst) {
    NDArray floats =
        array.getDataType() == DataType.FLOAT32 ? array : array.toType(DataType.FLOAT32, false);
    float[] values = floats.toFloatArray();
    MemorySegment.copy(values, 0, dst, ValueLayout.JAVA_FLOAT, 0, values.length);
  }

  /**
   * Writes {@code size} float32 values in row-major order back into the tensor, converting to
   * its dtype and device. Goes through indexed assignment, which writes through views
   * ({@code NDArray.set(Buffer)} replaces a non-contiguous tensor's storage instead).
   *
   * @param src the values
   * @param array the tensor to overwrite
   */
  static void copyIn(MemorySegment src, NDArray array) {
    float[] values = src.asSlice(0, array.size() * Float.BYTES).toArray(ValueLayout.JAVA_FLOAT);
    NDArray fresh = array.getManager().create(values, array.getShape());
    if (array.getDataType() != DataType.FLOAT32) {
      fresh = fresh.toType(array.getDataType(), false);
    }
    if (!fresh.getDevice().equals(array.getDevice())) {
      fresh = fresh.toDevice(array.getDevice(), false);
    }
    array.set(new NDIndex("..."), fresh);
  }

  /**
   * The own memory of the gradient stored on {@code weight}, to clear in place during the step,
   * or null when the weight has no gradient or it is not a dense contiguous CPU float32 tensor.
   *
   * @param weight the parameter
   * @return its gradient's memory, or null
   */
  static MemorySegment gradientMemory(NDArray weight) {
    if (!weight.hasGradient()) {
      return null;
    }
    NDArray gradient = weight.getGradient();
    return gradient == null ? null : ownMemory(gradient);
  }

  /**
   * Sets the gradient stored on {@code weight} to zero, as DJL's built-in optimizers do after
   * their update on the PyTorch engine (backward passes add to it).
   *
   * @param weight the parameter whose gradient to clear
   */
  static void zeroGradient(NDArray weight) {
    if (!weight.hasGradient()) {
      return;
    }
    NDArray gradient = weight.getGradient();
    if (gradient == null) {
      return;
    }
    MemorySegment memory = ownMemory(gradient);
    if (memory != null) {
      memory.fill((byte) 0);
    } else {
      gradient.set(new NDIndex("..."), 0f);
    }
  }
}
