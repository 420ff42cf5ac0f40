package dev.lowbit.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;
import java.util.ResourceBundle;
import org.junit.jupiter.api.Test;

/** The provider's selection rule: what is chosen, what is logged, what is an error. */
class KernelsTest {

  /** A stand-in for the SIMD kernels (only its identity matters here). */
  private static final OptimizerKernels FAKE_SIMD =
      new OptimizerKernels() {
        @Override
        public String name() {
          return "simd-test";
        }

        @Override
        public long firstBeyond(
            java.lang.foreign.MemorySegment values, long length, float limit) {
          throw new UnsupportedOperationException();
        }

        @Override
        public double sumOfSquares(
            java.lang.foreign.MemorySegment values, long length, int threads) {
          throw new UnsupportedOperationException();
        }

        @Override
        public void adam(
            AdamScalars s, java.lang.foreign.MemorySegment param,
            java.lang.foreign.MemorySegment grad, long length, MomentState m, MomentState v,
            int threads, java.lang.foreign.MemorySegment clear) {
          throw new UnsupportedOperationException();
        }

        @Override
        public void sgd(
            SgdScalars s, java.lang.foreign.MemorySegment param,
            java.lang.foreign.MemorySegment grad, long length, MomentState buffer, int threads,
            java.lang.foreign.MemorySegment clear) {
          throw new UnsupportedOperationException();
        }
      };

  private static final Kernels.SimdAttempt AVAILABLE =
      new Kernels.SimdAttempt(FAKE_SIMD, List.of());
  private static final Kernels.SimdAttempt MISSING =
      new Kernels.SimdAttempt(
          null, List.of("jdk.incubator.vector is not in the boot layer", "second reason"));

  /**
   * The real detection, in this JVM: the build runs the tests with {@code --add-modules
   * jdk.incubator.vector} on x86-64 or AArch64 (vectors of at least 128 bits), so the SIMD kernels
   * must be found, and chosen unless a property forces the scalar ones. A detection that always
   * fell back would only make every step slower, silently.
   */
  @Test
  void theVectorApiKernelsAreFoundInTheTestJvm() {
    assertTrue(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent(),
        "the test JVM runs with --add-modules jdk.incubator.vector (surefire argLine)");
    OptimizerKernels simd = Kernels.simd().orElseThrow();
    assertTrue(simd.name().startsWith("simd"), simd.name());
    if (System.getProperty("dev.lowbit.kernels") == null) {
      assertSame(simd, Kernels.get());
    }
  }

  /**
   * -Ddev.lowbit.kernels.threads: a positive integer (spaces trimmed) wins; anything else is named.
   */
  @Test
  void theThreadsPropertyIsAPositiveInteger() {
    String saved = System.getProperty(Kernels.THREADS_PROPERTY);
    try {
      System.clearProperty(Kernels.THREADS_PROPERTY);
      assertEquals(Runtime.getRuntime().availableProcessors(), Kernels.defaultThreads());
      System.setProperty(Kernels.THREADS_PROPERTY, " 3 ");
      assertEquals(3, Kernels.defaultThreads());
      System.setProperty(Kernels.THREADS_PROPERTY, "1");
      assertEquals(1, Kernels.defaultThreads());
      for (String bad : new String[] {"0", "-2", "two", ""}) {
        System.setProperty(Kernels.THREADS_PROPERTY, bad);
        IllegalStateException e =
            assertThrows(IllegalStateException.class, Kernels::defaultThreads);
        assertTrue(
            e.getMessage().contains(
                "-Ddev.lowbit.kernels.threads must be a positive integer, got '" + bad + "'"),
            e.getMessage());
      }
    } finally {
      if (saved == null) {
        System.clearProperty(Kernels.THREADS_PROPERTY);
      } else {
        System.setProperty(Kernels.THREADS_PROPERTY, saved);
      }
    }
  }

  @Test
  void simdIsChosenWhenAvailableWithOneInfoLine() {
    RecordingLogger log = new RecordingLogger();
    Kernels.Choice choice = Kernels.choose(null, AVAILABLE, log);
    assertSame(FAKE_SIMD, choice.kernels());
    assertNull(choice.error());
    assertEquals(List.of("INFO kernels: simd-test (Vector API)"), log.lines);
  }

  @Test
  void fallbackLogsOneWarningPerReasonAndOneInfoLine() {
    RecordingLogger log = new RecordingLogger();
    Kernels.Choice choice = Kernels.choose(null, MISSING, log);
    assertSame(Kernels.scalar(), choice.kernels());
    assertEquals(3, log.lines.size(), log.lines.toString());
    assertTrue(log.lines.get(0).startsWith("WARNING") && log.lines.get(0).contains("boot layer"));
    assertTrue(
        log.lines.get(1).startsWith("WARNING") && log.lines.get(1).contains("second reason"));
    assertTrue(log.lines.get(2).startsWith("INFO kernels: scalar"));
  }

  @Test
  void thePropertyForcesScalarEvenWhenSimdIsAvailable() {
    RecordingLogger log = new RecordingLogger();
    Kernels.Choice choice = Kernels.choose(" Scalar ", AVAILABLE, log);
    assertSame(Kernels.scalar(), choice.kernels());
    assertEquals(1, log.lines.size());
    assertTrue(log.lines.get(0).contains("forced"));
  }

  @Test
  void forcingSimdWhereItCannotRunIsAnErrorThatSaysWhy() {
    Kernels.Choice choice = Kernels.choose("simd", MISSING, new RecordingLogger());
    assertNull(choice.kernels());
    assertTrue(choice.error().contains("-Ddev.lowbit.kernels=simd"), choice.error());
    assertTrue(choice.error().contains("boot layer"), choice.error());
    assertSame(FAKE_SIMD, Kernels.choose("simd", AVAILABLE, new RecordingLogger()).kernels());
  }

  @Test
  void anUnknownPropertyValueIsAnErrorNamingTheProperty() {
    Kernels.Choice choice = Kernels.choose("gpu", AVAILABLE, new RecordingLogger());
    assertNull(choice.kernels());
    assertEquals("-Ddev.lowbit.kernels must be 'scalar' or 'simd', got 'gpu'", choice.error());
  }

  /**
   * The detection run afresh ({@link Kernels#simd()} keeps the outcome of its first run, made
   * before any test could watch it): in the test JVM it creates the SIMD kernels at the default
   * width and gives no reason against them.
   */
  @Test
  void theDetectionRunAfreshFindsTheVectorApiKernels() {
    Kernels.SimdAttempt attempt = Kernels.trySimd();
    assertEquals(List.of(), attempt.reasons());
    assertEquals(new SimdKernels().name(), attempt.kernels().name());
  }

  /** Collects "LEVEL message" lines. */
  static final class RecordingLogger implements System.Logger {
    final List<String> lines = new ArrayList<>();

    @Override
    public String getName() {
      return "test";
    }

    @Override
    public boolean isLoggable(Level level) {
      return true;
    }

    @Override
    public void log(Level level, ResourceBundle bundle, String msg, Throwable thrown) {
      lines.add(level.getName() + " " + msg);
    }

    @Override
    public void log(Level level, ResourceBundle bundle, String format, Object... params) {
      lines.add(level.getName() + " " + format);
    }
  }
}
