package dev.lowbit.optim;

/**
 * Thrown under {@link NonFinitePolicy#THROW} when a gradient holds a NaN, an infinity, or a value
 * above the largest the optimizer accepts (see {@link CommonOptions#largestGradient()}: the
 * rescaled gradient's square must fit in float32; Shampoo is stricter). The step wrote nothing.
 */
public final class NonFiniteGradientException extends ArithmeticException {

  private static final long serialVersionUID = 2L;

  /** The parameter whose gradient is bad (serialized with the exception). */
  private final String parameterName;

  /** The first flat index holding a bad value (serialized with the exception). */
  private final long index;

  /** The largest magnitude the step accepted (serialized with the exception). */
  private final float limit;

  /**
   * Creates the exception for a NaN or infinite element.
   *
   * @param parameterName the parameter whose gradient is bad
   * @param index the first flat index holding a bad value
   * @param value that value
   */
  public NonFiniteGradientException(String parameterName, long index, float value) {
    this(parameterName, index, value, Float.MAX_VALUE);
  }

  /**
   * Creates the exception for an element that is NaN, infinite, or larger in magnitude than
   * {@code limit}.
   *
   * @param parameterName the parameter whose gradient is bad
   * @param index the first flat index holding a bad value
   * @param value that value
   * @param limit the largest magnitude the step accepts ({@link CommonOptions#largestGradient()})
   */
  public NonFiniteGradientException(String parameterName, long index, float value, float limit) {
    super(
        "gradient of parameter '" + parameterName + "' is "
            + (Float.isFinite(value) ? "too large" : "not finite") + ": element " + index + " is "
            + value + (Float.isFinite(value)
                ? ", above the " + limit + " this optimizer accepts for it (see the optimizer's "
                    + "largestGradient: the rescaled element's square, under Shampoo the "
                    + "gradient's squared norm, must fit in float32)"
                : "")
            + "; nothing was written");
    this.parameterName = parameterName;
    this.index = index;
    this.limit = limit;
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

  /**
   * The largest magnitude of a gradient element the step accepted.
   *
   * @return the limit ({@code Float.MAX_VALUE} when only NaN and infinities are refused)
   */
  public float limit() {
    return limit;
  }
}
