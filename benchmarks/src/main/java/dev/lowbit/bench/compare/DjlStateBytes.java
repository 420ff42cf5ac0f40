package dev.lowbit.bench.compare;

import ai.djl.ndarray.NDArray;
import ai.djl.training.optimizer.Optimizer;
import java.lang.reflect.Field;
import java.util.Map;

/**
 * Measures the state of DJL's built-in optimizers: the bytes of every {@link NDArray} they keep
 * per parameter (for {@code Adam}, its {@code means} and {@code variances} maps: float32 m and v,
 * 8 bytes per parameter).
 *
 * <p>DJL does not expose its state, so the maps are read by reflection. This works when DJL is on
 * the class path (as in the {@code lowbit} jar); if it cannot, the result says so by throwing
 * rather than guessing.
 */
final class DjlStateBytes {

  private DjlStateBytes() {}

  /**
   * Sums the sizes of the NDArrays held in the optimizer's {@code Map<String, Map<Device,
   * NDArray>>} fields.
   *
   * @param optimizer a DJL optimizer that has taken at least one step
   * @return the bytes of its state arrays
   * @throws IllegalStateException if the fields cannot be read
   */
  static long of(Optimizer optimizer) {
    long bytes = 0;
    for (Class<?> c = optimizer.getClass(); c != Object.class; c = c.getSuperclass()) {
      for (Field field : c.getDeclaredFields()) {
        if (!Map.class.isAssignableFrom(field.getType())) {
          continue;
        }
        try {
          field.setAccessible(true);
          bytes += bytesIn(field.get(optimizer));
        } catch (ReflectiveOperationException | RuntimeException e) {
          throw new IllegalStateException(
              "cannot read the state of " + c.getName() + "." + field.getName(), e);
        }
      }
    }
    return bytes;
  }

  private static long bytesIn(Object value) {
    long bytes = 0;
    if (value instanceof NDArray array) {
      bytes += array.getShape().size() * array.getDataType().getNumOfBytes();
    } else if (value instanceof Map<?, ?> map) {
      for (Object inner : map.values()) {
        bytes += bytesIn(inner);
      }
    }
    return bytes;
  }
}
