package dev.lowbit.bench.memory;

import java.util.List;

/**
 * The state memory of every optimizer for one model.
 *
 * @param model the model's name
 * @param source where its shapes come from
 * @param parameters trainable parameters
 * @param tensors number of tensors
 * @param rows one per optimizer
 */
public record ModelMemory(
    String model, String source, long parameters, int tensors, List<MemoryRow> rows) {

  /** Copies the list. */
  public ModelMemory {
    rows = List.copyOf(rows);
  }
}
