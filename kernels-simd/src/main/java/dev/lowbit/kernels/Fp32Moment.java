package dev.lowbit.kernels;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * A moment kept in float32: one float per element.
 *
 * @param values {@code length} floats
 */
public record Fp32Moment(MemorySegment values) implements MomentState {

  /**
   * Checks that the segment is not null; its size is checked by the optimizer that owns it.
   *
   * @param values the floats
   */
  public Fp32Moment {
    Objects.requireNonNull(values, "values");
  }
}
