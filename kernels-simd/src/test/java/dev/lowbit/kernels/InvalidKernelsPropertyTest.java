package dev.lowbit.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * An invalid {@code -Ddev.lowbit.kernels} is reported as documented: {@link Kernels#get()} and
 * {@link MatrixKernels} throw IllegalStateException naming the property, on every call. It runs
 * in a new JVM (same java, same class path), because each JVM makes the choice once.
 */
class InvalidKernelsPropertyTest {

  @Test
  void everyCallThrowsTheIllegalStateExceptionThatNamesTheProperty() throws Exception {
    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command()
        .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    command.add("--add-modules=jdk.incubator.vector");
    command.add("-D" + Kernels.PROPERTY + "=gpu");
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), Child.class.getName()));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(process.waitFor(60, TimeUnit.SECONDS), output);
    assertEquals(0, process.exitValue(), output);
    String expected = "java.lang.IllegalStateException: -Ddev.lowbit.kernels must be 'scalar' or"
        + " 'simd', got 'gpu'";
    List<String> lines = output.lines().filter(l -> l.startsWith("call ")).toList();
    assertEquals(List.of("call 0 multiply: " + expected, "call 0 implementation: " + expected,
        "call 0 get: " + expected, "call 1 multiply: " + expected,
        "call 1 implementation: " + expected, "call 1 get: " + expected), lines, output);
  }

  /** Calls each entry point twice and prints what it threw. */
  static final class Child {
    public static void main(String[] args) throws IOException {
      for (int call = 0; call < 2; call++) {
        report(call, "multiply", () -> MatrixKernels.multiply(new float[1], new float[1],
            new float[1], 1, 1, 1));
        report(call, "implementation", MatrixKernels::implementation);
        report(call, "get", Kernels::get);
      }
    }

    private static void report(int call, String what, Runnable action) {
      try {
        action.run();
        System.out.println("call " + call + " " + what + ": returned");
      } catch (Throwable t) {
        System.out.println("call " + call + " " + what + ": " + t);
      }
    }
  }
}
