package dev.lowbit.kernels;

import java.lang.foreign.MemorySegment;

/**
 * A moment kept in float32: one float per element.
 *
 * @param values {@code length} floats
 */
public record Fp32Moment(MemorySegment values) implements MomentState {}
