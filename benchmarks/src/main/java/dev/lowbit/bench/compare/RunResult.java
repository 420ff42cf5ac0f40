package dev.lowbit.bench.compare;

import java.util.List;

/**
 * The outcome of training one model with one optimizer and one seed.
 *
 * @param optimizer the optimizer's name
 * @param seed the seed (weights' initialization and batch order)
 * @param parameters number of trainable parameters of the model
 * @param stateBytes optimizer-state bytes after training
 * @param trainLossPerEpoch mean training loss of each epoch
 * @param testAccuracyPerEpoch test accuracy (fraction correct) after each epoch
 * @param steps training steps taken
 * @param medianStepMillis median wall time of one training step (forward, backward, update)
 * @param medianUpdateMillis median wall time of the optimizer update alone ({@code
 *     Trainer.step()})
 * @param failure why training stopped early (the loss or a gradient stopped being finite), or
 *     null when it completed; the per-epoch lists then hold only the completed epochs
 */
public record RunResult(
    String optimizer,
    int seed,
    long parameters,
    long stateBytes,
    List<Double> trainLossPerEpoch,
    List<Double> testAccuracyPerEpoch,
    long steps,
    double medianStepMillis,
    double medianUpdateMillis,
    String failure) {

  /** Copies the lists. */
  public RunResult {
    trainLossPerEpoch = List.copyOf(trainLossPerEpoch);
    testAccuracyPerEpoch = List.copyOf(testAccuracyPerEpoch);
  }

  /**
   * Whether training ran all its epochs.
   *
   * @return true when there was no failure
   */
  public boolean completed() {
    return failure == null;
  }

  /**
   * The mean training loss of the last epoch.
   *
   * @return the final training loss
   */
  public double finalTrainLoss() {
    return trainLossPerEpoch.getLast();
  }

  /**
   * Test accuracy after the last epoch.
   *
   * @return the final test accuracy, a fraction
   */
  public double finalTestAccuracy() {
    return testAccuracyPerEpoch.getLast();
  }
}
