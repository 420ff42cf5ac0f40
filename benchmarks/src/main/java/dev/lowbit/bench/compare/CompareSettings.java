package dev.lowbit.bench.compare;

import java.util.List;

/**
 * What a comparison ran with, printed above the table and stored in the JSON.
 *
 * @param data where the data came from
 * @param trainImages training images used
 * @param testImages test images used
 * @param model the network
 * @param parameters its trainable parameters
 * @param epochs passes over the training set
 * @param batchSize images per step
 * @param stepsPerEpoch steps per epoch
 * @param seeds the seeds
 * @param learningRates per optimizer, in run order: {@code name=lr}
 */
public record CompareSettings(
    String data,
    int trainImages,
    int testImages,
    String model,
    long parameters,
    int epochs,
    int batchSize,
    int stepsPerEpoch,
    List<Integer> seeds,
    List<String> learningRates) {

  /** Copies the lists. */
  public CompareSettings {
    seeds = List.copyOf(seeds);
    learningRates = List.copyOf(learningRates);
  }
}
