package dev.lowbit.optim;

/**
 * The optimizer state of one parameter, as a subclass of {@link Optimizer} keeps it. The
 * optimizer owns it: it is closed (its memory freed) when the parameter is unregistered, its
 * state is replaced by {@link Optimizer#load}, or the optimizer is closed.
 */
public interface ParameterState extends AutoCloseable {

  /**
   * The exact bytes of state memory held between steps (codes, scales, float32 statistics; not
   * per-step workspace).
   *
   * @return the byte count
   */
  long bytes();

  /**
   * A JSON object describing the state's layout, stored in the checkpoint's metadata and handed
   * back to {@link Optimizer#readState} on load, which checks it against the configuration.
   *
   * @return the JSON text of an object
   */
  String describe();

  /**
   * Adds this state's tensors to a checkpoint, each key starting with {@code keyPrefix}.
   *
   * @param out the checkpoint being written
   * @param keyPrefix the prefix of every key, for example {@code "fc1.weight/"}
   */
  void write(CheckpointWriter out, String keyPrefix);

  /** Frees the state's memory. */
  @Override
  void close();
}
