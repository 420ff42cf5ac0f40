package dev.lowbit.bench.data;

import java.io.IOException;

/**
 * An IDX file that cannot be used: unreadable, truncated, not gzip when it claims to be, or with a
 * header that does not match its contents. The message always names the file.
 */
public final class IdxFormatException extends IOException {

  /**
   * Creates the exception.
   *
   * @param source the file (or resource) the problem was found in
   * @param problem what is wrong, in words a user can act on
   */
  public IdxFormatException(String source, String problem) {
    super(source + ": " + problem);
  }

  /**
   * Creates the exception with the low-level cause.
   *
   * @param source the file (or resource) the problem was found in
   * @param problem what is wrong, in words a user can act on
   * @param cause the exception that revealed the problem
   */
  public IdxFormatException(String source, String problem, Throwable cause) {
    super(source + ": " + problem, cause);
  }
}
