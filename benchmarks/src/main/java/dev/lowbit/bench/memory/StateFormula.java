package dev.lowbit.bench.memory;

/** An optimizer whose state bytes can be computed from a model's shapes. */
public interface StateFormula {

  /**
   * The optimizer's stable name.
   *
   * @return the name, as in {@code lowbit compare}
   */
  String name();

  /**
   * Exact state bytes for one tensor.
   *
   * @param tensor the tensor's shape
   * @return the bytes
   * @throws ArithmeticException if they exceed {@code Long.MAX_VALUE}
   */
  long bytes(TensorShape tensor);

  /**
   * Exact state bytes for a whole model: the sum over its tensors.
   *
   * @param model the model
   * @return the bytes
   * @throws ArithmeticException if they exceed {@code Long.MAX_VALUE}
   */
  default long bytes(ModelShapes model) {
    long total = 0;
    for (TensorShape t : model.tensors()) {
      total = Math.addExact(total, bytes(t));
    }
    return total;
  }

  /**
   * Every optimizer the memory report covers, in report order.
   *
   * @return the AdamW and SGD-momentum presets, then Shampoo
   */
  static java.util.List<StateFormula> all() {
    java.util.List<StateFormula> all = new java.util.ArrayList<>(OptimizerLayout.presets());
    all.addAll(ShampooLayout.presets());
    return all;
  }
}
