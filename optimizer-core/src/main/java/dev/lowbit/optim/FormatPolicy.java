package dev.lowbit.optim;

import java.util.List;
import java.util.function.Function;

/**
 * Which formats a parameter's moments get: the first matching name override, else float32 below
 * the size threshold, else the configured precision or custom formats; then the rank fallback of
 * {@link StateFormat#resolve(long[])}.
 */
final class FormatPolicy {

  private final StateFormat[] defaults;
  private final long minQuantizedSize;
  private final List<OptimizerBuilder.StateOverride> overrides;
  private final Function<Precision, StateFormat[]> byPrecision;

  FormatPolicy(
      StateFormat[] defaults, long minQuantizedSize,
      List<OptimizerBuilder.StateOverride> overrides,
      Function<Precision, StateFormat[]> byPrecision) {
    this.defaults = defaults.clone();
    this.minQuantizedSize = minQuantizedSize;
    this.overrides = List.copyOf(overrides);
    this.byPrecision = byPrecision;
  }

  StateFormat[] formatsFor(Parameter p) {
    StateFormat[] chosen = null;
    for (OptimizerBuilder.StateOverride o : overrides) {
      if (o.names().test(p.name())) {
        chosen = o.formats() != null ? o.formats() : byPrecision.apply(o.precision());
        break;
      }
    }
    if (chosen == null) {
      chosen = p.length() < minQuantizedSize ? byPrecision.apply(Precision.FP32) : defaults;
    }
    StateFormat[] resolved = new StateFormat[chosen.length];
    for (int i = 0; i < chosen.length; i++) {
      resolved[i] = chosen[i].resolve(p.shape());
    }
    return resolved;
  }

  /** For checkpoint metadata. */
  String describe() {
    StringBuilder sb = new StringBuilder();
    for (StateFormat f : defaults) {
      sb.append(sb.isEmpty() ? "" : ", ").append(f);
    }
    int n = overrides.size();
    return "[" + sb + "], float32 below " + minQuantizedSize + " elements, " + n
        + (n == 1 ? " override" : " overrides");
  }
}
