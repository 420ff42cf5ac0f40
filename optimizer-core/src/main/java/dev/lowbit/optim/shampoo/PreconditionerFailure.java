package dev.lowbit.optim.shampoo;

/**
 * A preconditioner update that was dropped because it would have produced a non-finite value
 * (or, for an inverse root, because an eigenvalue was not positive after the epsilon shift, so
 * no real root exists): the statistic or the inverse root kept its last good value.
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
        + block + ", step " + step + ") could not be computed (a value not finite, or for a root"
        + " an eigenvalue not positive after the epsilon shift); keeping the last good one";
  }
}
