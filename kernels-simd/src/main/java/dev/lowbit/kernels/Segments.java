package dev.lowbit.kernels;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/** Lists every segment a kernel call touches (to decide whether worker threads may touch them). */
final class Segments {

  private Segments() {}

  /**
   * The parameter, the gradient, the segment to clear (if any) and every segment of the moments.
   *
   * @param param the parameter
   * @param grad the gradient
   * @param clear the segment the call sets to zero, or null
   * @param moments the moments of the call
   * @return all their segments
   */
  static MemorySegment[] of(
      MemorySegment param, MemorySegment grad, MemorySegment clear, MomentState... moments) {
    List<MemorySegment> all = new ArrayList<>(List.of(param, grad));
    if (clear != null) {
      all.add(clear);
    }
    for (MomentState moment : moments) {
      switch (moment) {
        case Fp32Moment f -> all.add(f.values());
        case BlockwiseMoment b -> all.addAll(List.of(b.codes(), b.scales()));
        case Rank1Moment r -> all.addAll(List.of(r.codes(), r.rowScales(), r.colScales()));
        case FactorizedMoment f -> all.addAll(List.of(f.rowStats(), f.colStats()));
      }
    }
    return all.toArray(MemorySegment[]::new);
  }

  /**
   * Sets floats {@code [start, start + n)} of {@code clear} to zero; nothing when it is null.
   *
   * @param clear the segment to clear, or null
   * @param start first float
   * @param n number of floats
   */
  static void clearChunk(MemorySegment clear, long start, int n) {
    if (clear != null) {
      clear.asSlice(start * Float.BYTES, (long) n * Float.BYTES).fill((byte) 0);
    }
  }
}
