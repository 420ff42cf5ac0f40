package dev.lowbit.bench.memory;

/**
 * One optimizer's state memory for one model.
 *
 * @param optimizer the optimizer's stable name
 * @param computedBytes bytes from the formulas ({@link OptimizerLayout#bytes(ModelShapes)})
 * @param measuredBytes bytes of the real, allocated state ({@code Optimizer.stateBytes()}), or
 *     null when not measured
 * @param bytesPerParameter {@code computedBytes / parameters}
 * @param differencePercent {@code 100 (measured - computed) / computed}, or null when not measured
 */
public record MemoryRow(
    String optimizer,
    long computedBytes,
    Long measuredBytes,
    double bytesPerParameter,
    Double differencePercent) {

  /**
   * Builds a row.
   *
   * @param optimizer the optimizer
   * @param parameters the model's parameter count
   * @param computed computed bytes
   * @param measured measured bytes, or null
   * @return the row
   */
  static MemoryRow of(String optimizer, long parameters, long computed, Long measured) {
    return new MemoryRow(
        optimizer,
        computed,
        measured,
        (double) computed / parameters,
        measured == null ? null : 100.0 * (measured - computed) / computed);
  }
}
