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
   * Exact state bytes for a whole model.
   *
   * @param model the model
   * @return the bytes
   */
  long bytes(ModelShapes model);

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
