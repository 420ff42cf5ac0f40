package dev.lowbit.kernels;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/** Lists every segment a kernel call touches (to decide whether worker threads may touch them). */
final class Segments {

  private Segments() {}

  /**
   * The parameter, the gradient and every segment of the given moments.
   *
   * @param param the parameter
   * @param grad the gradient
   * @param moments the moments of the call
   * @return all their segments
   */
  static MemorySegment[] of(MemorySegment param, MemorySegment grad, MomentState... moments) {
    List<MemorySegment> all = new ArrayList<>(List.of(param, grad));
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
}
