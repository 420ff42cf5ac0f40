package dev.lowbit.optim;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A checkpoint file that cannot be loaded: damaged, truncated, of another format version, or not
 * matching the optimizer it is loaded into. The message names the file, the key and the check
 * that failed. The optimizer it was loaded into is unchanged.
 */
public final class CheckpointException extends IOException {

  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param file the checkpoint file
   * @param problem what is wrong, naming the key and the check
   */
  public CheckpointException(Path file, String problem) {
    super("checkpoint " + file + ": " + problem);
  }

  /**
   * Creates the exception with a cause.
   *
   * @param file the checkpoint file
   * @param problem what is wrong, naming the key and the check
   * @param cause the underlying failure
   */
  public CheckpointException(Path file, String problem, Throwable cause) {
    super("checkpoint " + file + ": " + problem, cause);
  }
}
