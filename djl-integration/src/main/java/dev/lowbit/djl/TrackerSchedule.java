package dev.lowbit.djl;

import ai.djl.training.tracker.ParameterTracker;
import dev.lowbit.optim.LearningRateSchedule;
import java.util.Objects;

/**
 * A DJL learning-rate tracker seen as LowBit's schedule. DJL trackers may depend on the parameter
 * as well as on the step, but a core schedule only gets the step: the adapter sets the parameter
 * id before each core step (steps run one at a time, under the adapter's lock).
 */
final class TrackerSchedule implements LearningRateSchedule {

  private final ParameterTracker tracker;
  private String parameterId = "";

  TrackerSchedule(ParameterTracker tracker) {
    this.tracker = Objects.requireNonNull(tracker, "learningRateTracker");
  }

  /** Sets the parameter whose step comes next. */
  void forParameter(String parameterId) {
    this.parameterId = parameterId;
  }

  @Override
  public float at(long step) {
    return tracker.getNewValue(parameterId, Math.toIntExact(step));
  }

  /** Written into checkpoints as the learning rate's description. */
  @Override
  public String toString() {
    return "djl-tracker:" + tracker.getClass().getSimpleName();
  }
}
