package dev.lowbit.optim;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The shared part of the optimizers whose state is a fixed set of moments (Adam's m and v, SGD's
 * buffer): choosing each tensor's formats, allocating them, and checkpointing them.
 */
abstract sealed class MomentOptimizer extends Optimizer permits Adam, Sgd {

  private final String[] momentNames;
  private final Set<String> nonNegativeMoments;
  private final FormatPolicy formats;

  /**
   * An optimizer over the given moments.
   *
   * @param options the common options
   * @param momentNames the moments, in kernel order
   * @param nonNegativeMoments those the update never makes negative (a load refuses negative
   *     values in them)
   * @param formats how each tensor's formats are chosen
   */
  MomentOptimizer(
      CommonOptions options, String[] momentNames, Set<String> nonNegativeMoments,
      FormatPolicy formats) {
    super(options);
    this.momentNames = momentNames.clone();
    this.nonNegativeMoments = Set.copyOf(nonNegativeMoments);
    this.formats = formats;
  }

  @Override
  protected final void update(
      Parameter p, ParameterState state, MemorySegment grad, float gradScale, long t) {
    kernelStep(p, (MomentSet) state, grad, gradScale, t, null);
  }

  @Override
  protected final void updateAndZero(
      Parameter p, ParameterState state, MemorySegment grad, float gradScale, long t,
      MemorySegment clear) {
    kernelStep(p, (MomentSet) state, grad, gradScale, t, clear);
  }

  /**
   * One step of one tensor through the kernels, which also zero {@code clear} in their pass.
   *
   * @param p the parameter
   * @param moments its state
   * @param grad its gradient
   * @param gradScale rescale and clipping folded into one factor
   * @param t the tensor's step count for this step, from 1
   * @param clear the segment to zero in the pass, or null
   */
  abstract void kernelStep(
      Parameter p, MomentSet moments, MemorySegment grad, float gradScale, long t,
      MemorySegment clear);

  /**
   * The formats a registered parameter's moments use, in the order of the optimizer's moments
   * (Adam: m, v; SGD: the momentum buffer), after overrides, the size threshold and the rank
   * fallback.
   *
   * @param name a registered parameter
   * @return the formats
   */
  public final List<StateFormat> stateFormats(String name) {
    return List.of(formats.formatsFor(parameter(name)));
  }

  @Override
  protected final ParameterState newState(Parameter p) {
    return MomentSet.allocate(momentNames, formats.formatsFor(p), p);
  }

  @Override
  protected final ParameterState readState(
      Parameter p, String description, CheckpointReader in, String keyPrefix)
      throws CheckpointException {
    return MomentSet.read(
        momentNames, nonNegativeMoments, formats.formatsFor(p), p, description, in, keyPrefix);
  }

  /**
   * A renamed parameter must get the formats its new name would have chosen at registration
   * (name overrides), or a later save and load would not match a run registered that way.
   */
  @Override
  protected final ParameterState moveState(
      Parameter before, Parameter after, ParameterState state) {
    StateFormat[] now = formats.formatsFor(before);
    StateFormat[] then = formats.formatsFor(after);
    if (!Arrays.equals(now, then)) {
      throw new IllegalArgumentException(
          "cannot rename parameter '" + before.name() + "' to '" + after.name() + "': its state"
              + " formats would change from " + Arrays.toString(now) + " to "
              + Arrays.toString(then) + " (a name override); unregister and register it instead");
    }
    return state;
  }

  @Override
  protected Map<String, Object> hyperparameters() {
    Map<String, Object> h = super.hyperparameters();
    h.put("state_formats", formats.describe());
    return h;
  }
}
