package dev.lowbit.bench.memory;

import java.util.List;

/**
 * The trainable tensors of one model.
 *
 * @param name the model's name, as shown in the report
 * @param source where the shapes come from (a file, or the paper and configuration they follow)
 * @param tensors the tensors, in file order
 */
public record ModelShapes(String name, String source, List<TensorShape> tensors) {

  /** Copies the list. */
  public ModelShapes {
    tensors = List.copyOf(tensors);
  }

  /**
   * Number of trainable parameters.
   *
   * @return the sum of the tensors' elements
   * @throws ArithmeticException if it exceeds {@code Long.MAX_VALUE} ({@link ShapeFile} refuses
   *     such files)
   */
  public long parameters() {
    long n = 0;
    for (TensorShape t : tensors) {
      n = Math.addExact(n, t.elements());
    }
    return n;
  }
}
