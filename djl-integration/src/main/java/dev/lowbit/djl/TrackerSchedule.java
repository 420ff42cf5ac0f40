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
  private long cachedStep = -1;
  private float cachedRate;

  TrackerSchedule(ParameterTracker tracker) {
    this.tracker = Objects.requireNonNull(tracker, "learningRateTracker");
  }

  /** Sets the parameter whose step comes next. */
  void forParameter(String parameterId) {
    this.parameterId = parameterId;
    cachedStep = -1;
  }

  /**
   * The tracker's value for the current parameter at {@code step}. The core asks twice per step
   * (to check the rate before writing, then to use it); the tracker is asked once, as DJL asks
   * it once per update.
   */
  @Override
  public float at(long step) {
    if (step != cachedStep) {
      cachedRate = tracker.getNewValue(parameterId, Math.toIntExact(step));
      cachedStep = step;
    }
    return cachedRate;
  }

  /** A readable description, for messages and debugging. */
  @Override
  public String toString() {
    return "djl-tracker:" + tracker.getClass().getSimpleName();
  }
}
