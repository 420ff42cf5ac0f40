package dev.lowbit.kernels;

import java.lang.System.Logger.Level;
import java.lang.reflect.InvocationTargetException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Chooses the kernel implementation once, at first use (after Lucene's vectorization provider).
 *
 * <p>The Vector API implementation ({@code dev.lowbit.kernels.SimdKernels}, loaded by name) is
 * chosen when the module {@code jdk.incubator.vector} is readable (run with
 * {@code --add-modules jdk.incubator.vector}) and its preferred vector width is at least 128
 * bits; otherwise the scalar reference. The system property {@code dev.lowbit.kernels} set to
 * {@code scalar} or {@code simd} forces one; forcing {@code simd} where it cannot run is an
 * error that says why. The choice is logged once at INFO (logger {@code dev.lowbit.kernels}),
 * and each reason for falling back to scalar at WARNING.
 */
public final class Kernels {

  /** The system property that forces an implementation: {@code scalar} or {@code simd}. */
  public static final String PROPERTY = "dev.lowbit.kernels";

  /** The system property for the default number of worker threads. */
  public static final String THREADS_PROPERTY = "dev.lowbit.kernels.threads";

  static final String SIMD_CLASS = "dev.lowbit.kernels.SimdKernels";
  private static final String VECTOR_MODULE = "jdk.incubator.vector";
  private static final System.Logger LOG = System.getLogger("dev.lowbit.kernels");
  private static final OptimizerKernels SCALAR = new ScalarKernels();

  private Kernels() {}

  /**
   * The active implementation, chosen on the first call.
   *
   * @return the kernels every optimizer uses
   * @throws IllegalStateException if {@code -Ddev.lowbit.kernels} has an unknown value, or forces
   *     {@code simd} where it is unavailable (the message says why)
   */
  public static OptimizerKernels get() {
    Choice choice = Holder.CHOICE;
    if (choice.error() != null) {
      throw new IllegalStateException(choice.error());
    }
    return choice.kernels();
  }

  /**
   * The scalar reference implementation, whatever {@link #get()} chose.
   *
   * @return the scalar kernels
   */
  public static OptimizerKernels scalar() {
    return SCALAR;
  }

  /**
   * The Vector API implementation, if it can run here (whatever {@link #get()} chose).
   *
   * @return the SIMD kernels, or empty when the vector module is not readable, its preferred
   *     width is below 128 bits, or the class is missing
   */
  public static Optional<OptimizerKernels> simd() {
    return Optional.ofNullable(SimdHolder.SIMD.kernels());
  }

  /**
   * The default worker-thread count: {@code -Ddev.lowbit.kernels.threads} if set, else the
   * number of available processors.
   *
   * @return 1 or more
   * @throws IllegalStateException if the property is not a positive integer
   */
  public static int defaultThreads() {
    String value = System.getProperty(THREADS_PROPERTY);
    if (value == null) {
      return Runtime.getRuntime().availableProcessors();
    }
    try {
      int threads = Integer.parseInt(value.trim());
      if (threads >= 1) {
        return threads;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalStateException(
        "-D" + THREADS_PROPERTY + " must be a positive integer, got '" + value + "'");
  }

  /** The outcome of the selection: kernels, or an error to report on every call. */
  record Choice(OptimizerKernels kernels, String error) {}

  /** An attempt to create the SIMD kernels: the kernels, or the reasons they cannot run. */
  record SimdAttempt(OptimizerKernels kernels, List<String> reasons) {}

  /** Static holder: the selection runs once, when {@link #get()} is first called. */
  private static final class Holder {
    static final Choice CHOICE = choose(System.getProperty(PROPERTY), SimdHolder.SIMD, LOG);
  }

  private static final class SimdHolder {
    static final SimdAttempt SIMD = trySimd();
  }

  /**
   * The selection rule, apart from the JVM state it reads (so that tests can exercise it).
   *
   * @param property the value of {@code -Ddev.lowbit.kernels}, or null
   * @param simd the outcome of trying to create the SIMD kernels
   * @param log where the one INFO line and the WARNING lines go
   * @return the chosen kernels, or the error to report
   */
  static Choice choose(String property, SimdAttempt simd, System.Logger log) {
    String forced = property;
    if (forced != null) {
      forced = forced.trim().toLowerCase(Locale.ROOT);
      if (forced.equals("scalar")) {
        log.log(Level.INFO, "kernels: scalar (forced by -D" + PROPERTY + "=scalar)");
        return new Choice(SCALAR, null);
      }
      if (!forced.equals("simd")) {
        return new Choice(
            null,
            "-D" + PROPERTY + " must be 'scalar' or 'simd', got '" + property + "'");
      }
    }
    if (simd.kernels() != null) {
      log.log(
          Level.INFO,
          "kernels: " + simd.kernels().name() + " (Vector API"
              + (forced != null ? ", forced by -D" + PROPERTY + "=simd)" : ")"));
      return new Choice(simd.kernels(), null);
    }
    if (forced != null) {
      return new Choice(
          null,
          "-D" + PROPERTY + "=simd, but the Vector API kernels cannot run: "
              + String.join("; ", simd.reasons()));
    }
    for (String reason : simd.reasons()) {
      log.log(Level.WARNING, "kernels: falling back to scalar: " + reason);
    }
    log.log(Level.INFO, "kernels: scalar (the Vector API implementation is unavailable)");
    return new Choice(SCALAR, null);
  }

  /**
   * Tries to create the SIMD kernels: the detection behind {@link #simd()}, which runs it once
   * (tests run it afresh).
   *
   * @return the kernels, or the reasons they cannot run here
   */
  static SimdAttempt trySimd() {
    List<String> reasons = new ArrayList<>();
    Optional<Module> vector = ModuleLayer.boot().findModule(VECTOR_MODULE);
    if (vector.isEmpty()) {
      reasons.add(VECTOR_MODULE + " is not in the boot layer (run with --add-modules "
          + VECTOR_MODULE + ")");
      return new SimdAttempt(null, reasons);
    }
    if (!Kernels.class.getModule().canRead(vector.get())) {
      reasons.add(
          "module " + Kernels.class.getModule().getName() + " cannot read " + VECTOR_MODULE);
      return new SimdAttempt(null, reasons);
    }
    int bits;
    try {
      // Reflection, so that this class loads without the incubator module.
      Class<?> shape =
          Class.forName(
              "jdk.incubator.vector.VectorShape", true, ClassLoader.getPlatformClassLoader());
      Object preferred = shape.getMethod("preferredShape").invoke(null);
      bits = (Integer) shape.getMethod("vectorBitSize").invoke(preferred);
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      reasons.add("cannot query the preferred vector width: " + e);
      return new SimdAttempt(null, reasons);
    }
    if (bits < 128) {
      reasons.add("the preferred vector width is " + bits + " bits (at least 128 needed)");
      return new SimdAttempt(null, reasons);
    }
    try {
      Class<?> impl = Class.forName(SIMD_CLASS, true, Kernels.class.getClassLoader());
      Object kernels = impl.getConstructor().newInstance();
      return new SimdAttempt((OptimizerKernels) kernels, reasons);
    } catch (ClassNotFoundException e) {
      reasons.add(SIMD_CLASS + " is not on the class or module path");
    } catch (InvocationTargetException e) {
      reasons.add(SIMD_CLASS + " failed to initialize: " + e.getCause());
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      reasons.add(SIMD_CLASS + " cannot be created: " + e);
    }
    return new SimdAttempt(null, reasons);
  }
}
