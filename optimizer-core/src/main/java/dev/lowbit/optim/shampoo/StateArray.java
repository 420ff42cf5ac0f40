package dev.lowbit.optim.shampoo;

import java.util.Arrays;

/**
 * One array of Shampoo state as it goes into a checkpoint: float32 values or raw bytes (packed
 * 4-bit codes), never both.
 *
 * @param suffix the key suffix, for example {@code "left.statistic"}
 * @param shape the tensor shape written to the checkpoint
 * @param floats the float32 values, or null
 * @param bytes the bytes, or null
 */
record StateArray(String suffix, long[] shape, float[] floats, byte[] bytes) {

  static StateArray ofFloats(String suffix, float[] values, long... shape) {
    return new StateArray(suffix, shape, values, null);
  }

  static StateArray ofBytes(String suffix, byte[] values) {
    return new StateArray(suffix, new long[] {values.length}, null, values);
  }

  /** The float values, checked to have {@code length} elements. */
  float[] floats(int length) {
    if (floats == null || floats.length != length) {
      throw new IllegalArgumentException(
          "state array '" + suffix + "' must hold " + length + " float32 values, got "
              + (floats == null ? "bytes" : floats.length + " floats"));
    }
    return floats.clone();
  }

  /** The bytes, checked to have {@code length} elements. */
  byte[] bytes(long length) {
    if (bytes == null || bytes.length != length) {
      throw new IllegalArgumentException(
          "state array '" + suffix + "' must hold " + length + " bytes, got "
              + (bytes == null ? "floats" : bytes.length + " bytes"));
    }
    return bytes.clone();
  }

  @Override
  public String toString() {
    return suffix + Arrays.toString(shape);
  }
}
