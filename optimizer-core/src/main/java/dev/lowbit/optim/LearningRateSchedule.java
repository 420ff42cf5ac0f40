package dev.lowbit.optim;

/**
 * The learning rate as a function of a tensor's own step count {@code t} (1 on its first step).
 * The value must be finite and not negative; a step that gets anything else fails before writing.
 *
 * <p>A checkpoint records, for its reader, a constant schedule's value, and of any other schedule
 * its {@code toString()} when its class overrides it, else its class name: override it to say
 * what the schedule is.
 */
@FunctionalInterface
public interface LearningRateSchedule {

  /**
   * The learning rate for step {@code t}.
   *
   * @param step the tensor's step count, from 1
   * @return the learning rate
   */
  float at(long step);

  /**
   * A constant learning rate.
   *
   * @param learningRate the rate for every step
   * @return the schedule
   */
  static LearningRateSchedule constant(float learningRate) {
    return new Constant(learningRate);
  }

  /**
   * A constant schedule; checkpoints record its value as a number.
   *
   * @param learningRate the rate for every step
   */
  record Constant(float learningRate) implements LearningRateSchedule {
    @Override
    public float at(long step) {
      return learningRate;
    }
  }
}
