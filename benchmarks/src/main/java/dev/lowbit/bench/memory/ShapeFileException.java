package dev.lowbit.bench.memory;

import java.io.IOException;

/** A shape file that cannot be used; the message names the file and the line. */
public final class ShapeFileException extends IOException {

  /**
   * Creates the exception.
   *
   * @param source the file
   * @param line the 1-based line number, or 0 for the file as a whole
   * @param problem what is wrong
   */
  public ShapeFileException(String source, int line, String problem) {
    super(source + (line > 0 ? ":" + line : "") + ": " + problem);
  }
}
