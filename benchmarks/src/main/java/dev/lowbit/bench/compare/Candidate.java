package dev.lowbit.bench.compare;

import ai.djl.training.optimizer.Optimizer;
import java.util.function.DoubleFunction;
import java.util.function.ToLongFunction;

/**
 * One optimizer {@code lowbit compare} can train with.
 *
 * @param name the stable name used on the command line and in the output
 * @param description what it is, one line
 * @param defaultLearningRate the learning rate used when {@code --lr} is not given
 * @param factory makes a fresh optimizer for one run from a learning rate
 * @param stateBytes reads the optimizer-state bytes of an optimizer after training
 * @param stateBytesSource how {@code stateBytes} gets its number, for the output
 * @param inDefaultRun whether {@code lowbit compare} runs it when {@code --optimizers} is not
 *     given (false for ablations)
 * @param firstOwnStep the first step at which it does something its base optimizer does not
 *     (Shampoo: its first inverse roots), 1 for most; a shorter run gets a note saying so
 */
public record Candidate(
    String name,
    String description,
    double defaultLearningRate,
    DoubleFunction<Optimizer> factory,
    ToLongFunction<Optimizer> stateBytes,
    String stateBytesSource,
    boolean inDefaultRun,
    long firstOwnStep) {

  /**
   * A candidate that differs from its base from the first step.
   *
   * @param name the stable name used on the command line and in the output
   * @param description what it is, one line
   * @param defaultLearningRate the learning rate used when {@code --lr} is not given
   * @param factory makes a fresh optimizer for one run from a learning rate
   * @param stateBytes reads the optimizer-state bytes of an optimizer after training
   * @param stateBytesSource how {@code stateBytes} gets its number, for the output
   * @param inDefaultRun whether {@code lowbit compare} runs it when {@code --optimizers} is not
   *     given
   */
  public Candidate(
      String name,
      String description,
      double defaultLearningRate,
      DoubleFunction<Optimizer> factory,
      ToLongFunction<Optimizer> stateBytes,
      String stateBytesSource,
      boolean inDefaultRun) {
    this(name, description, defaultLearningRate, factory, stateBytes, stateBytesSource,
        inDefaultRun, 1);
  }

  /**
   * The note a run of {@code steps} steps needs for this optimizer, or null.
   *
   * @param steps the run's total steps
   * @param stepsPerEpoch steps per epoch, to say how many epochs would be enough
   * @return the note, or null when the run reaches {@link #firstOwnStep}
   */
  public String shortRunNote(long steps, long stepsPerEpoch) {
    if (steps >= firstOwnStep) {
      return null;
    }
    long epochs = (firstOwnStep + stepsPerEpoch - 1) / stepsPerEpoch + 1;
    return name + ": does nothing of its own before step " + firstOwnStep + " and this run has "
        + steps + " steps, so its accuracy is its base optimizer's (its state bytes are its own);"
        + " --epochs " + epochs + " or more shows it.";
  }
}
