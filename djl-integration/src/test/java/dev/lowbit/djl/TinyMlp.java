package dev.lowbit.djl;

import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.util.Pair;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;

/**
 * A small MLP regression task, fully deterministic: weights and data come from seeded
 * {@link Random}s, not from the engine's generator. Layers: 32 -> 256 -> relu -> 16, so both
 * weight matrices hold at least 4096 elements (quantized by the low-bit presets) and the biases
 * stay float32.
 */
final class TinyMlp implements AutoCloseable {

  static final int IN = 32;
  static final int HIDDEN = 256;
  static final int OUT = 16;
  static final int BATCH = 64;
  static final int SAMPLES = 512;

  private final Model model;
  private final Trainer trainer;
  private final float[][] inputs;
  private final float[][] targets;

  /**
   * Builds the model, initializes it with weights drawn from {@code weightSeed} and prepares the
   * data set from a fixed seed.
   */
  TinyMlp(Optimizer optimizer, long weightSeed) {
    this(optimizer, weightSeed, null);
  }

  /**
   * The model with the weights {@code model().save(dir, "tiny-mlp")} wrote, restored the way
   * docs/djl.md's resume recipe says: {@code model.load} before {@code newTrainer}.
   */
  static TinyMlp fromSavedWeights(Optimizer optimizer, Path dir) {
    return new TinyMlp(optimizer, 0, dir);
  }

  private TinyMlp(Optimizer optimizer, long weightSeed, Path savedWeights) {
    model = Model.newInstance("tiny-mlp", "PyTorch");
    SequentialBlock block = new SequentialBlock();
    block.add(Linear.builder().setUnits(HIDDEN).build());
    block.add(Activation::relu);
    block.add(Linear.builder().setUnits(OUT).build());
    model.setBlock(block);
    if (savedWeights != null) {
      try {
        model.load(savedWeights, "tiny-mlp");
      } catch (IOException | ai.djl.MalformedModelException e) {
        throw new IllegalStateException(e);
      }
    }
    trainer = model.newTrainer(new DefaultTrainingConfig(Loss.l2Loss()).optOptimizer(optimizer));
    trainer.initialize(new Shape(BATCH, IN));
    if (savedWeights == null) {
      seedWeights(block, weightSeed);
    }
    Random data = new Random(7);
    float[][] teacher = new float[OUT][IN];
    for (float[] row : teacher) {
      for (int j = 0; j < IN; j++) {
        row[j] = (float) data.nextGaussian();
      }
    }
    inputs = new float[SAMPLES][IN];
    targets = new float[SAMPLES][OUT];
    for (int s = 0; s < SAMPLES; s++) {
      for (int j = 0; j < IN; j++) {
        inputs[s][j] = (float) data.nextGaussian();
      }
      for (int o = 0; o < OUT; o++) {
        float sum = 0;
        for (int j = 0; j < IN; j++) {
          sum += teacher[o][j] * inputs[s][j];
        }
        targets[s][o] = (float) Math.tanh(sum / 4);
      }
    }
  }

  /** Overwrites every parameter with seeded Gaussians scaled by 1/sqrt(fan-in). */
  private static void seedWeights(SequentialBlock block, long seed) {
    Random weights = new Random(seed);
    for (Pair<String, Parameter> p : block.getParameters()) {
      NDArray array = p.getValue().getArray();
      float[] values = new float[Math.toIntExact(array.size())];
      float scale =
          (float) (1.0 / Math.sqrt(array.getShape().get(array.getShape().dimension() - 1)));
      for (int i = 0; i < values.length; i++) {
        values[i] = (float) weights.nextGaussian() * scale;
      }
      array.set(values);
    }
  }

  Model model() {
    return model;
  }

  Trainer trainer() {
    return trainer;
  }

  /** Forward and backward on batch {@code step} (cycling over the data), without stepping. */
  float backward(int step) {
    return backward(step, batch -> {});
  }

  /**
   * Forward and backward on batch {@code step}, after letting {@code editInputs} change the batch's
   * inputs; returns the loss.
   */
  float backward(int step, Consumer<float[]> editInputs) {
    int batches = SAMPLES / BATCH;
    int first = (step % batches) * BATCH;
    float[] x = new float[BATCH * IN];
    float[] y = new float[BATCH * OUT];
    for (int b = 0; b < BATCH; b++) {
      System.arraycopy(inputs[first + b], 0, x, b * IN, IN);
      System.arraycopy(targets[first + b], 0, y, b * OUT, OUT);
    }
    editInputs.accept(x);
    try (NDManager scratch = trainer.getManager().newSubManager()) {
      NDArray xs = scratch.create(x, new Shape(BATCH, IN));
      NDArray ys = scratch.create(y, new Shape(BATCH, OUT));
      try (GradientCollector collector = trainer.newGradientCollector()) {
        NDList predictions = trainer.forward(new NDList(xs));
        NDArray loss = trainer.getLoss().evaluate(new NDList(ys), predictions);
        collector.backward(loss);
        return loss.getFloat();
      }
    }
  }

  /** One training step on batch {@code step}; returns the loss before the update. */
  float train(int step) {
    float loss = backward(step);
    trainer.step();
    return loss;
  }

  /** Training steps on batches {@code from} to {@code to - 1}. */
  void trainSteps(int from, int to) {
    for (int step = from; step < to; step++) {
      train(step);
    }
  }

  /** The mean loss over the whole data set, without gradients. */
  float fullLoss() {
    float sum = 0;
    int batches = SAMPLES / BATCH;
    for (int b = 0; b < batches; b++) {
      float[] x = new float[BATCH * IN];
      float[] y = new float[BATCH * OUT];
      for (int i = 0; i < BATCH; i++) {
        System.arraycopy(inputs[b * BATCH + i], 0, x, i * IN, IN);
        System.arraycopy(targets[b * BATCH + i], 0, y, i * OUT, OUT);
      }
      try (NDManager scratch = trainer.getManager().newSubManager()) {
        NDList predictions =
            trainer.evaluate(new NDList(scratch.create(x, new Shape(BATCH, IN))));
        sum += trainer.getLoss()
            .evaluate(new NDList(scratch.create(y, new Shape(BATCH, OUT))), predictions)
            .getFloat();
      }
    }
    return sum / batches;
  }

  /** Every parameter's values by name, copied. */
  Map<String, float[]> weights() {
    Map<String, float[]> out = new LinkedHashMap<>();
    for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
      out.put(p.getKey(), p.getValue().getArray().toFloatArray());
    }
    return out;
  }

  /** Overwrites every parameter's values by name. */
  void setWeights(Map<String, float[]> values) {
    for (Pair<String, Parameter> p : model.getBlock().getParameters()) {
      p.getValue().getArray().set(values.get(p.getKey()));
    }
  }

  /** The named parameter's array. */
  NDArray parameter(String name) {
    return model.getBlock().getParameters().get(name).getArray();
  }

  /**
   * The message of the error {@code optimizer.update} gives for the named parameter with a
   * gradient of the wrong shape (its own values with a leading axis of 1); nothing is written.
   */
  String wrongShapeGradientError(LowBitOptimizer optimizer, String name) {
    Parameter parameter = model.getBlock().getParameters().get(name);
    NDArray weight = parameter.getArray();
    return assertThrows(IllegalArgumentException.class,
        () -> optimizer.update(parameter.getId(), weight, weight.expandDims(0))).getMessage();
  }

  @Override
  public void close() {
    trainer.close();
    model.close();
  }
}
