package dev.lowbit.optim.shampoo;

/**
 * A preconditioner update that would have produced a non-finite value and was dropped: the
 * statistic or the inverse root kept its last good value.
 *
 * @param parameter the parameter's name
 * @param step the parameter's step count when it happened
 * @param block the block index (row-major over the parameter's blocks)
 * @param side {@code "left"} or {@code "right"}
 * @param what {@code "statistic"} or {@code "inverse root"}
 */
public record PreconditionerFailure(
    String parameter, long step, int block, String side, String what) {

  /**
   * A one-line description for logs.
   *
   * @return the message
   */
  public String message() {
    return "Shampoo: the " + side + " " + what + " of parameter '" + parameter + "' (block "
        + block + ", step " + step + ") would not be finite; keeping the last good one";
  }
}
