package dev.lowbit.bench.compare;

/** The LowBit optimizers, through the DJL adapter {@code dev.lowbit.djl.LowBitOptimizer}. */
final class LowBitCandidates {

  private LowBitCandidates() {}

  /**
   * Adds every LowBit optimizer this build has.
   *
   * @param catalog the catalog to add to
   */
  static void addTo(OptimizerCatalog catalog) {
    // The adapter has not landed yet.
  }
}
