package dev.lowbit.djl;

import ai.djl.ndarray.NDArray;
import java.lang.foreign.MemorySegment;

/**
 * How one (parameter, device) pair is registered with the core optimizer: under which key, and
 * over which memory. Direct: the tensor's own storage, stepped in place. Copied: a float32 staging
 * array the adapter fills from the tensor before each step and writes back after it.
 *
 * @param key the core optimizer's parameter key
 * @param weight the tensor the binding was made for (compared by identity)
 * @param direct whether {@code values} is the tensor's own storage
 * @param values the float32 values registered with the core
 * @param shape the tensor's shape
 */
record ParameterBinding(
    String key, NDArray weight, boolean direct, MemorySegment values, long[] shape) {

  /**
   * Binds a tensor: in place when {@link TensorMemory#ownMemory} allows it, else through a staging
   * array. Call with the tensor attached to a scratch manager (see {@link TensorMemory}). The
   * tensor is checked here ({@link TensorMemory#whyNotFloating}, and for the copy path
   * {@link TensorMemory#whyNotWritableBack}), so that a step never fails after the core has
   * stepped.
   *
   * @param key the core key
   * @param weight the tensor
   * @param label how an error names the parameter
   * @return the binding
   * @throws IllegalArgumentException naming the parameter if the tensor cannot be stepped
   */
  static ParameterBinding of(String key, NDArray weight, String label) {
    refuse(label, TensorMemory.whyNotFloating(weight));
    long[] shape = weight.getShape().getShape();
    MemorySegment own = TensorMemory.ownMemory(weight);
    if (own != null) {
      return new ParameterBinding(key, weight, true, own, shape);
    }
    refuse(label, TensorMemory.whyNotWritableBack(weight));
    float[] staging = new float[Math.toIntExact(weight.size())];
    return new ParameterBinding(key, weight, false, MemorySegment.ofArray(staging), shape);
  }

  private static void refuse(String label, String problem) {
    if (problem != null) {
      throw new IllegalArgumentException("parameter " + label + " cannot be updated: " + problem);
    }
  }

  /**
   * The same binding under another core key (after the core parameter was renamed).
   *
   * @param newKey the core key
   * @return the re-keyed binding
   */
  ParameterBinding withKey(String newKey) {
    return new ParameterBinding(newKey, weight, direct, values, shape);
  }

  /**
   * Whether this binding still describes {@code weight}: the same tensor object, and, for a
   * direct binding, still the same storage (a tensor's storage can be swapped, for example by
   * {@code NDArray.intern}).
   *
   * @param weight the tensor DJL passed to this update
   * @return true if the binding can be used as it is
   */
  boolean stillHolds(NDArray weight) {
    if (this.weight != weight) {
      return false;
    }
    if (!direct) {
      return true;
    }
    return TensorMemory.isCpuFloat32(weight)
        && TensorMemory.currentAddress(weight) == values.address()
        && weight.size() * Float.BYTES == values.byteSize();
  }
}
