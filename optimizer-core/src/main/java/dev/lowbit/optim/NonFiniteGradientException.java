package dev.lowbit.optim;

/**
 * Thrown under {@link NonFinitePolicy#THROW} when a gradient holds a NaN, an infinity, or a value
 * so large that its square would overflow float32 after the gradient rescale (see
 * {@link CommonOptions#largestGradient()}). The step wrote nothing.
 */
public final class NonFiniteGradientException extends ArithmeticException {

  private static final long serialVersionUID = 1L;

  /** The parameter whose gradient is bad (serialized with the exception). */
  private final String parameterName;

  /** The first flat index holding a bad value (serialized with the exception). */
  private final long index;

  /**
   * Creates the exception.
   *
   * @param parameterName the parameter whose gradient is bad
   * @param index the first flat index holding a bad value
   * @param value that value
   */
  public NonFiniteGradientException(String parameterName, long index, float value) {
    super(
        "gradient of parameter '" + parameterName + "' is "
            + (Float.isFinite(value) ? "too large" : "not finite") + ": element " + index + " is "
            + value + (Float.isFinite(value)
                ? ", whose square (after the gradient rescale) would overflow float32" : "")
            + "; nothing was written");
    this.parameterName = parameterName;
    this.index = index;
  }

  /**
   * The parameter whose gradient is bad.
   *
   * @return the parameter name
   */
  public String parameterName() {
    return parameterName;
  }

  /**
   * The first flat (row-major) index of a bad gradient element.
   *
   * @return the index
   */
  public long index() {
    return index;
  }
}
