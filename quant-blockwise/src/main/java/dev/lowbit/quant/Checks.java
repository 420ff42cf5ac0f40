package dev.lowbit.quant;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

/** Argument checks shared by the quantizers: all run before anything is written. */
final class Checks {
  /** Float32 values in native byte order; unaligned so that any heap or native segment works. */
  static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

  private Checks() {}

  /** Fails unless {@code segment} holds at least {@code bytes} bytes. */
  static void atLeast(String parameter, MemorySegment segment, long bytes) {
    Objects.requireNonNull(segment, parameter);
    if (segment.byteSize() < bytes) {
      throw new IllegalArgumentException(
          parameter + " is too small: needs " + bytes + " bytes, has " + segment.byteSize());
    }
  }

  /**
   * Fails if {@code segment} is read-only: an output is checked with the other arguments, so
   * that a call that cannot write all of its outputs writes none of them.
   */
  static void writable(String parameter, MemorySegment segment) {
    Objects.requireNonNull(segment, parameter);
    if (segment.isReadOnly()) {
      throw new IllegalArgumentException(parameter + " is read-only: it receives the output");
    }
  }

  /**
   * The byte size of {@code count} floats.
   *
   * @param what what the floats are, for the message (for example {@code "scales"})
   * @throws IllegalArgumentException if that byte count overflows a long
   */
  static long floatBytes(String what, long count) {
    if (count > Long.MAX_VALUE / Float.BYTES) {
      throw new IllegalArgumentException(
          what + ": " + count + " floats are more bytes than a long can count");
    }
    return count * Float.BYTES;
  }

  /**
   * Fails unless {@code segment} holds at least {@code count} floats; a count whose byte size
   * overflows a long is more than any segment holds.
   */
  static void atLeastFloats(String parameter, MemorySegment segment, long count) {
    atLeast(parameter, segment, bytesOfFloats(parameter, segment, count, "is too small: needs "));
  }

  /** Fails unless {@code segment} holds exactly {@code count} floats. */
  static void exactlyFloats(String parameter, MemorySegment segment, long count) {
    exactly(parameter, segment,
        bytesOfFloats(parameter, segment, count, "has the wrong size: needs exactly "));
  }

  /** {@code count} floats in bytes, or the size check's failure when that overflows a long. */
  private static long bytesOfFloats(
      String parameter, MemorySegment segment, long count, String failure) {
    Objects.requireNonNull(segment, parameter);
    if (count > Long.MAX_VALUE / Float.BYTES) {
      throw new IllegalArgumentException(
          parameter + " " + failure + count + " floats (more bytes than a long can count), has "
              + segment.byteSize() + " bytes");
    }
    return count * Float.BYTES;
  }

  /** Fails unless {@code segment} holds exactly {@code bytes} bytes. */
  static void exactly(String parameter, MemorySegment segment, long bytes) {
    Objects.requireNonNull(segment, parameter);
    if (segment.byteSize() != bytes) {
      throw new IllegalArgumentException(
          parameter + " has the wrong size: needs exactly " + bytes + " bytes, has "
              + segment.byteSize());
    }
  }

  /**
   * Fails if a float among {@code [from, to)} of {@code src} is NaN or infinite, naming the first.
   */
  static void finite(String parameter, MemorySegment src, long from, long to) {
    for (long i = from; i < to; i++) {
      float x = src.getAtIndex(FLOAT, i);
      if (!Float.isFinite(x)) {
        throw new IllegalArgumentException(
            parameter + " has a non-finite value " + x + " at index " + i);
      }
    }
  }

  /**
   * Fails if a stored code is not an entry of {@code book} (possible only for books with fewer
   * than {@code 2^bits} entries, such as DE-0's 15), naming the first bad index: a damaged state
   * must not decode to garbage or half-write the output.
   */
  static void codesInRange(CodeBook book, MemorySegment codes, long length) {
    if (book.size() == 1 << book.bits()) {
      return;
    }
    for (long i = 0; i < length; i++) {
      int code = PackedCodes.read(codes, book.bits(), i);
      if (code >= book.size()) {
        throw new IllegalArgumentException(
            "codes: code " + code + " at index " + i + " is not an entry of " + book.name()
                + " (" + book.size() + " entries)");
      }
    }
  }

  /** Fails unless {@code length >= 0}. */
  static void length(long length) {
    if (length < 0) {
      throw new IllegalArgumentException("length must be >= 0, got " + length);
    }
  }
}
