package dev.lowbit.bench.compare;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.util.Pair;
import dev.lowbit.bench.data.LabeledImages;
import dev.lowbit.optim.NonFiniteGradientException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Trains one model with one optimizer and one seed through DJL's {@link Trainer} on the PyTorch
 * engine (CPU), evaluating on the test set after every epoch.
 *
 * <p>The loop is the one a DJL user writes: forward and backward inside a gradient collector,
 * then {@link Trainer#step()}, which calls the optimizer's {@code update} for every parameter.
 * Pixels are scaled to [0, 1] and standardized with Fashion-MNIST's mean and standard deviation.
 *
 * <p>A run whose loss or gradient stops being finite ends there and is reported as diverged
 * (with the step), so one unstable optimizer does not cost the rest of a comparison.
 */
public final class TrainingRun {

  /** Mean pixel value of Fashion-MNIST's training set, on the [0, 1] scale. */
  private static final float PIXEL_MEAN = 0.2860f;

  /** Standard deviation of Fashion-MNIST's training pixels, on the [0, 1] scale. */
  private static final float PIXEL_STD = 0.3530f;

  private static final int EVAL_BATCH = 1000;

  private final ModelKind modelKind;
  private final int epochs;
  private final int batchSize;
  private final LabeledImages train;
  private final LabeledImages test;

  /** The most training steps one run can time (the length of an array of step times). */
  public static final long MAX_STEPS = Integer.MAX_VALUE - 8;

  /** Heap bytes per training step for its timings (step and update nanoseconds). */
  public static final long BYTES_PER_STEP = 2 * Long.BYTES;

  /**
   * Prepares runs that share a model kind, schedule and data.
   *
   * @param modelKind the network
   * @param epochs passes over the training set
   * @param batchSize images per step; the last partial batch of an epoch is dropped
   * @param train training images
   * @param test test images
   */
  public TrainingRun(
      ModelKind modelKind, int epochs, int batchSize, LabeledImages train, LabeledImages test) {
    if (epochs < 1) {
      throw new IllegalArgumentException("--epochs must be at least 1, got " + epochs);
    }
    if (batchSize < 1 || batchSize > train.count()) {
      throw new IllegalArgumentException(
          "--batch-size must be between 1 and the number of training images ("
              + train.count()
              + "), got "
              + batchSize);
    }
    this.modelKind = modelKind;
    this.epochs = epochs;
    this.batchSize = batchSize;
    this.train = train;
    this.test = test;
  }

  /**
   * Steps per epoch.
   *
   * @return full batches in the training set
   */
  public int stepsPerEpoch() {
    return train.count() / batchSize;
  }

  /**
   * Trains and evaluates.
   *
   * @param candidate the optimizer
   * @param learningRate its learning rate
   * @param seed seeds the engine (initial weights) and the batch order
   * @param progress where the progress bar goes
   * @param terminal whether {@code progress} is a terminal
   * @return the measurements
   */
  public RunResult run(
      Candidate candidate, double learningRate, int seed, PrintWriter progress, boolean terminal) {
    Engine engine = Engine.getEngine("PyTorch");
    engine.setRandomSeed(seed);
    Optimizer optimizer = candidate.factory().apply(learningRate);
    long totalSteps = (long) epochs * stepsPerEpoch();
    ProgressBar bar =
        new ProgressBar(
            progress, terminal, String.format("%-22s seed %d", candidate.name(), seed), totalSteps);
    try (Model model = Model.newInstance(modelKind.name().toLowerCase(), Device.cpu(), "PyTorch")) {
      model.setBlock(modelKind.newBlock());
      DefaultTrainingConfig config =
          new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
              .optOptimizer(optimizer)
              .optDevices(new Device[] {Device.cpu()});
      try (Trainer trainer = model.newTrainer(config)) {
        trainer.initialize(modelKind.inputShape(batchSize));
        long parameters = countParameters(model);
        Random order = new Random(seed);
        int[] permutation = identity(train.count());
        List<Double> losses = new ArrayList<>();
        List<Double> accuracies = new ArrayList<>();
        long[] stepNanos = new long[Math.toIntExact(totalSteps)]; // the command checks the size
        long[] updateNanos = new long[Math.toIntExact(totalSteps)];
        int step = 0;
        String failure = null;
        training:
        for (int epoch = 1; epoch <= epochs; epoch++) {
          shuffle(permutation, order);
          double lossSum = 0;
          for (int b = 0; b < stepsPerEpoch(); b++) {
            try (NDManager batch = trainer.getManager().newSubManager()) {
              NDArray x = images(batch, train, permutation, b * batchSize, batchSize);
              NDArray y = labels(batch, train, permutation, b * batchSize, batchSize);
              long start = System.nanoTime();
              float batchLoss;
              try (GradientCollector collector = trainer.newGradientCollector()) {
                NDArray prediction = trainer.forward(new NDList(x)).singletonOrThrow();
                NDArray loss = trainer.getLoss().evaluate(new NDList(y), new NDList(prediction));
                collector.backward(loss);
                batchLoss = loss.getFloat();
              }
              if (!Float.isFinite(batchLoss)) {
                failure = "diverged: training loss is " + batchLoss + " at step " + (step + 1);
                break training;
              }
              lossSum += batchLoss;
              long beforeUpdate = System.nanoTime();
              try {
                trainer.step();
              } catch (NonFiniteGradientException e) {
                failure = "diverged at step " + (step + 1) + ": " + e.getMessage();
                break training;
              }
              long end = System.nanoTime();
              stepNanos[step] = end - start;
              updateNanos[step] = end - beforeUpdate;
            }
            step++;
            bar.step(step, String.format(
                Locale.ROOT, "epoch %d/%d loss %.4f", epoch, epochs, lossSum / (b + 1)));
          }
          double loss = lossSum / stepsPerEpoch();
          double accuracy = evaluate(trainer);
          losses.add(loss);
          accuracies.add(accuracy);
          bar.epoch(
              step,
              String.format(
                  Locale.ROOT,
                  "epoch %d/%d loss %.4f test accuracy %.2f%%",
                  epoch, epochs, loss, 100 * accuracy));
        }
        if (failure != null) {
          bar.epoch(step, failure);
        }
        long stateBytes = candidate.stateBytes().applyAsLong(optimizer);
        return new RunResult(
            candidate.name(),
            seed,
            parameters,
            stateBytes,
            losses,
            accuracies,
            totalSteps,
            medianMillis(Arrays.copyOf(stepNanos, Math.max(1, step))),
            medianMillis(Arrays.copyOf(updateNanos, Math.max(1, step))),
            failure);
      }
    } finally {
      if (optimizer instanceof AutoCloseable closeable) {
        try {
          closeable.close();
        } catch (Exception e) {
          progress.println("warning: closing " + candidate.name() + " failed: " + e);
        }
      }
    }
  }

  private double evaluate(Trainer trainer) {
    int[] order = identity(test.count());
    long correct = 0;
    for (int start = 0; start < test.count(); start += EVAL_BATCH) {
      int n = Math.min(EVAL_BATCH, test.count() - start);
      try (NDManager batch = trainer.getManager().newSubManager()) {
        NDArray x = images(batch, test, order, start, n);
        long[] predicted =
            trainer.evaluate(new NDList(x)).singletonOrThrow().argMax(1).toLongArray();
        for (int i = 0; i < n; i++) {
          if (predicted[i] == test.label(start + i)) {
            correct++;
          }
        }
      }
    }
    return (double) correct / test.count();
  }

  private NDArray images(
      NDManager manager, LabeledImages set, int[] order, int start, int n) {
    int size = set.pixelsPerImage();
    float[] pixels = new float[n * size];
    byte[] source = set.pixels();
    for (int i = 0; i < n; i++) {
      int from = order[start + i] * size;
      for (int p = 0; p < size; p++) {
        pixels[i * size + p] = ((source[from + p] & 0xff) / 255f - PIXEL_MEAN) / PIXEL_STD;
      }
    }
    return manager.create(pixels, modelKind.inputShape(n));
  }

  private static NDArray labels(
      NDManager manager, LabeledImages set, int[] order, int start, int n) {
    float[] labels = new float[n];
    for (int i = 0; i < n; i++) {
      labels[i] = set.label(order[start + i]);
    }
    return manager.create(labels, new Shape(n));
  }

  private static long countParameters(Model model) {
    long count = 0;
    for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
      if (p.getValue().requiresGradient()) {
        count += p.getValue().getArray().size();
      }
    }
    return count;
  }

  private static int[] identity(int n) {
    int[] a = new int[n];
    Arrays.setAll(a, i -> i);
    return a;
  }

  private static void shuffle(int[] a, Random random) {
    for (int i = a.length - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }

  private static double medianMillis(long[] nanos) {
    long[] sorted = nanos.clone();
    Arrays.sort(sorted);
    int n = sorted.length;
    double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0;
    return median / 1e6;
  }
}
