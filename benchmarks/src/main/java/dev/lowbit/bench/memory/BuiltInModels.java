package dev.lowbit.bench.memory;

import java.util.ArrayList;
import java.util.List;

/**
 * The models {@code lowbit memory} reports by default. Their shapes are in {@code *.shapes}
 * files next to this class, each naming its source in its first comment lines.
 */
public final class BuiltInModels {

  private static final String[][] MODELS = {
    {"ResNet-50", "resnet50.shapes"},
    {"ViT-B/16", "vit-b16.shapes"},
    {"GPT-2 124M", "gpt2-124m.shapes"},
    {"GPT-2 355M", "gpt2-355m.shapes"},
    {"LLaMA-7B", "llama-7b.shapes"},
  };

  private BuiltInModels() {}

  /**
   * All built-in models, smallest first.
   *
   * @return the models
   * @throws ShapeFileException if a built-in file is damaged (a packaging error)
   */
  public static List<ModelShapes> all() throws ShapeFileException {
    List<ModelShapes> models = new ArrayList<>();
    for (String[] model : MODELS) {
      models.add(ShapeFile.readResource(model[0], "/dev/lowbit/bench/memory/" + model[1]));
    }
    return models;
  }
}
