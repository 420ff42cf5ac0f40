package dev.lowbit.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ai.djl.Model;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.util.Pair;
import dev.lowbit.optim.Optimizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A checkpoint written by one JVM resumes bit-identically in another (issue #6). A child JVM
 * (this JVM's java binary and class path, the Vector API module if this JVM has it, the {@code
 * ai.djl.*} system properties) trains {@link TinyMlp} {@value #SAVED_AFTER} steps with one of
 * {@link CheckpointTest#preset}'s optimizers, saves the weights the DJL way ({@code model.save})
 * and the optimizer state with {@link LowBitOptimizer#save}, writes down its parameters' DJL
 * runtime ids and exits. This JVM then resumes as docs/djl.md's recipe says ({@link
 * TinyMlp#fromSavedWeights}, then {@link LowBitOptimizer#load}), trains steps
 * {@value #SAVED_AFTER} to {@value #STEPS} - 1 (the 6th to the 9th), and must end with exactly
 * the weights of an uninterrupted {@value #STEPS}-step run. Before resuming it creates and drops
 * parameters, and it asserts that every resumed parameter's runtime id differs from the child's,
 * counter part included, and that the checkpoint's parameters are the model's names: only keying
 * by names can make the load match.
 *
 * <p>The optimizers: 8-bit and 4-bit AdamW, and 4-bit and 32-bit Shampoo, whose checkpoint also
 * holds each block's statistics and inverse roots, and the base AdamW's state. The Shampoo
 * presets update the statistics every 2 steps and the roots every 4, so the child's steps 1 to 5
 * update the statistics twice and the roots once, and its last step already uses those roots.
 * After the resume, steps 6 and 7 precondition with the loaded roots, steps 6 and 8 update the
 * statistics starting from the loaded ones, and step 8 computes new roots from them: a root the
 * resume did not restore changes the weights from step 6 on, a statistic from step 8 on.
 */
class ResumeInNewJvmTest {

  /** The steps the child trains before it saves. */
  static final int SAVED_AFTER = 5;

  /** The steps of the whole run: the child's, then this JVM's. */
  static final int STEPS = 9;

  /** Far above the child's few seconds; a child still running then is killed. */
  private static final long CHILD_TIMEOUT_SECONDS = 120;

  /** DJL 0.36's runtime ids: {@code uid-<System.nanoTime()>-<JVM-wide counter>}. */
  private static final Pattern RUNTIME_ID = Pattern.compile("uid-(\\d+)-(\\d+)");

  @TempDir Path dir;

  /**
   * The child JVM's program: trains, saves the weights and the optimizer checkpoint, and writes
   * its parameters' runtime ids.
   */
  public static final class Child {

    private Child() {}

    /**
     * Trains {@link TinyMlp} (weight seed 1) for {@link ResumeInNewJvmTest#SAVED_AFTER} steps
     * with {@code CheckpointTest.preset(args[0])} and writes, into the directory {@code args[1]}:
     * the weights ({@code model/}, by {@code model.save}), the optimizer checkpoint ({@code
     * optimizer.safetensors}) and the runtime ids ({@code ids.txt}, one {@code name id} a line).
     *
     * @param args the preset name and the output directory
     * @throws IOException if a file cannot be written
     */
    public static void main(String[] args) throws IOException {
      Path out = Path.of(args[1]);
      try (LowBitOptimizer optimizer = CheckpointTest.preset(args[0]).get();
          TinyMlp mlp = new TinyMlp(optimizer, 1)) {
        mlp.trainSteps(0, SAVED_AFTER);
        mlp.model().save(out.resolve("model"), "tiny-mlp");
        optimizer.save(mlp.model(), out.resolve("optimizer.safetensors"));
        List<String> lines = new ArrayList<>();
        runtimeIds(mlp).forEach((name, id) -> lines.add(name + " " + id));
        Files.write(out.resolve("ids.txt"), lines, StandardCharsets.UTF_8);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"8bit", "4bit", "shampoo4bit", "shampoo32"})
  void aCheckpointSavedByAnotherJvmResumesBitIdentically(String preset)
      throws IOException, InterruptedException {
    Path saved = Files.createDirectory(dir.resolve("saved"));
    runChild(preset, saved);
    Map<String, String> childIds = readIds(saved.resolve("ids.txt"));
    Path checkpoint = saved.resolve("optimizer.safetensors");
    assertEquals(new TreeSet<>(childIds.keySet()),
        new TreeSet<>(Optimizer.checkpointParameterNames(checkpoint)),
        "the checkpoint's parameters, keyed by the model's names (the child's runtime ids were "
            + childIds.values() + ")");

    Map<String, float[]> reference;
    try (LowBitOptimizer optimizer = CheckpointTest.preset(preset).get();
        TinyMlp mlp = new TinyMlp(optimizer, 1)) {
      mlp.trainSteps(0, STEPS);
      reference = mlp.weights();
    }
    dropSomeParameters();

    try (LowBitOptimizer optimizer = CheckpointTest.preset(preset).get();
        TinyMlp mlp = TinyMlp.fromSavedWeights(optimizer, saved.resolve("model"))) {
      Map<String, String> ids = runtimeIds(mlp);
      assertEquals(childIds.keySet(), ids.keySet(), "the child's parameters");
      for (Map.Entry<String, String> e : ids.entrySet()) {
        String child = childIds.get(e.getKey());
        assertNotEquals(counter(child), counter(e.getValue()),
            e.getKey() + ": runtime ids here " + ids + ", in the child " + childIds);
      }
      optimizer.load(mlp.model(), checkpoint);
      mlp.trainSteps(SAVED_AFTER, STEPS);
      // Surefire reports the case by its index only, so the message names the preset.
      GradientAndFailureTest.assertWeightsEqual(reference, mlp.weights(), preset
          + ": resumed after step " + SAVED_AFTER + " from the child's checkpoint, vs an"
          + " uninterrupted " + STEPS + "-step run: ");
    }
  }

  /**
   * Runs {@link Child} in a new JVM and waits for it; fails with its exit code, stdout and stderr
   * unless it exits with 0 within {@link #CHILD_TIMEOUT_SECONDS} (then it is killed).
   */
  private static void runChild(String preset, Path out)
      throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command()
        .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    // Same kernels as here (both give the same bytes, but the comparison should not rely on it).
    if (ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()) {
      command.add("--add-modules=jdk.incubator.vector");
    }
    // Surefire's argLine passes -Dai.djl.offline=true; pass on any DJL setting this JVM has.
    for (String key : System.getProperties().stringPropertyNames()) {
      if (key.startsWith("ai.djl.")) {
        command.add("-D" + key + "=" + System.getProperty(key));
      }
    }
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), Child.class.getName(),
        preset, out.toString()));
    // Both streams to files: they cannot fill a pipe and block the child.
    Path stdout = out.resolveSibling("child.out");
    Path stderr = out.resolveSibling("child.err");
    Process process = new ProcessBuilder(command)
        .redirectOutput(stdout.toFile())
        .redirectError(stderr.toFile())
        .start();
    try {
      if (!process.waitFor(CHILD_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor();
        fail("the child JVM did not end within " + CHILD_TIMEOUT_SECONDS + " s and was killed"
            + output(command, stdout, stderr));
      }
    } finally {
      process.destroyForcibly();
    }
    if (process.exitValue() != 0) {
      fail("the child JVM exited with " + process.exitValue() + output(command, stdout, stderr));
    }
  }

  /** The child's command line, stdout and stderr, for a failure message. */
  private static String output(List<String> command, Path stdout, Path stderr)
      throws IOException {
    String shown = String.join(" ", command)
        .replace(System.getProperty("java.class.path"), "<this JVM's java.class.path>");
    return "\ncommand: " + shown
        + "\nstdout:\n" + Files.readString(stdout) + "\nstderr:\n" + Files.readString(stderr);
  }

  /**
   * Creates a model with a few parameters and closes it: moves DJL's id counter on, so that the
   * resumed model's ids differ from the child's even if both JVMs made the same calls before.
   */
  private static void dropSomeParameters() {
    try (Model model = Model.newInstance("dropped", "PyTorch")) {
      for (int i = 0; i < 3; i++) {
        model.setBlock(Linear.builder().setUnits(1).build());
      }
    }
  }

  /** Parameter name to DJL runtime id, in the block's order. */
  private static Map<String, String> runtimeIds(TinyMlp mlp) {
    Map<String, String> ids = new LinkedHashMap<>();
    for (Pair<String, Parameter> p : mlp.model().getBlock().getParameters()) {
      ids.put(p.getKey(), p.getValue().getId());
    }
    return ids;
  }

  /** The ids {@link Child} wrote. */
  private static Map<String, String> readIds(Path file) throws IOException {
    Map<String, String> ids = new LinkedHashMap<>();
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      String[] nameAndId = line.split(" ", 2);
      ids.put(nameAndId[0], nameAndId[1]);
    }
    return ids;
  }

  /** The counter part of a runtime id (the nanoTime part alone would rarely repeat). */
  private static long counter(String runtimeId) {
    Matcher m = RUNTIME_ID.matcher(runtimeId);
    assertTrue(m.matches(), "not a DJL 0.36 runtime id: " + runtimeId);
    return Long.parseLong(m.group(2));
  }
}
