package dev.lowbit.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Optimizer#save} is crash-safe against real crashes: a child JVM saves to one file over
 * and over and is killed with SIGKILL while it writes. CheckpointTest simulates what a dead
 * writer leaves behind; this test makes a writer die.
 */
class CheckpointCrashTest {

  @TempDir Path dir;

  /** Rounds of start, save, kill, check: under two seconds each, mostly the child's start. */
  private static final int ROUNDS = 4;

  /**
   * Upper bound of the delay between a save's first change to the directory and the kill, in
   * microseconds: shorter than the child's writes of 16 MB take here (about 8 ms before the
   * fsync, which takes as long again), so that the kills land while the file is incomplete.
   */
  private static final int MAX_KILL_DELAY_US = 6000;

  /** The exit code {@link Process#waitFor} reports for a process ended by SIGKILL (9). */
  private static final int KILLED_BY_SIGKILL = 128 + 9;

  /**
   * The run the child saves and the parent reproduces: float32 AdamW over two tensors of 2M
   * parameters in all, 16 MB of moments (so that writing them takes long enough to be killed
   * in), stepped with gradients that depend only on the step number.
   */
  static final class Run implements AutoCloseable {

    private static final Map<String, long[]> SHAPES = new LinkedHashMap<>();

    static {
      SHAPES.put("embedding", new long[] {1024, 1536});
      SHAPES.put("projection", new long[] {512, 1024});
    }

    private static final int LENGTH = 1024 * 1536 + 512 * 1024;

    private final Optimizer opt = Optimizers.adamW32().build();
    private final float[] noise = TestStates.gaussian(new SplittableRandom(17), LENGTH, 0.01);
    private final float[] gradient = new float[LENGTH];

    Run() {
      SHAPES.forEach((name, shape) -> opt.register(name, shape, new float[count(shape)]));
    }

    Optimizer optimizer() {
      return opt;
    }

    long steps() {
      return opt.stepCount("embedding");
    }

    /**
     * Step {@code t}'s gradients are one fixed noise rotated by {@code 7919 t} places and cut
     * into the tensors: different at every step, and cheap, so that the child's loop is mostly
     * saving.
     */
    void step() {
      int shift = (int) ((steps() + 1) * 7919 % LENGTH);
      System.arraycopy(noise, shift, gradient, 0, LENGTH - shift);
      System.arraycopy(noise, 0, gradient, LENGTH - shift, shift);
      Map<String, MemorySegment> grads = new LinkedHashMap<>();
      long offset = 0;
      for (Map.Entry<String, long[]> e : SHAPES.entrySet()) {
        long bytes = 4L * count(e.getValue());
        grads.put(e.getKey(), MemorySegment.ofArray(gradient).asSlice(offset, bytes));
        offset += bytes;
      }
      opt.step(grads);
    }

    private static int count(long[] shape) {
      return Math.toIntExact(shape[0] * shape[1]);
    }

    @Override
    public void close() {
      opt.close();
    }
  }

  /**
   * The child JVM: steps and saves to the file named by its argument, forever, announcing every
   * completed save on stdout ({@code saved <step>}). Only a kill ends it.
   */
  public static final class Child {

    public static void main(String[] args) throws IOException {
      Path target = Path.of(args[0]);
      try (Run run = new Run()) {
        while (true) {
          run.step();
          run.optimizer().save(target);
          System.out.println("saved " + run.steps());
          System.out.flush();
        }
      }
    }
  }

  /** A running {@link Child}; closing it kills it if it still runs and waits for its end. */
  private static final class ChildProcess implements AutoCloseable {

    private final Process process;
    private final BufferedReader stdout;
    private final Path stderr;
    private long lastSaved = -1;

    /** Starts {@link Child} with this JVM's java binary and classpath. */
    ChildProcess(Path target, Path stderr) throws IOException {
      List<String> command = new ArrayList<>();
      command.add(ProcessHandle.current().info().command().orElseThrow());
      // The kernels chosen here (the Vector API ones write the same bytes as the scalar ones,
      // but the reference should not have to rely on that).
      if (ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()) {
        command.add("--add-modules=jdk.incubator.vector");
      }
      command.addAll(List.of("-cp", System.getProperty("java.class.path"),
          Child.class.getName(), target.toString()));
      // stderr goes to a file: it cannot fill a pipe and block the child, and it is kept for
      // the failure messages.
      this.process = new ProcessBuilder(command)
          .redirectError(ProcessBuilder.Redirect.to(stderr.toFile()))
          .start();
      this.stdout = new BufferedReader(
          new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
      this.stderr = stderr;
    }

    /** Reads the announcements up to the next completed save; fails if the child ends first. */
    void awaitSave() throws IOException, InterruptedException {
      if (!readSaves(true)) {
        failEnded("before its first save");
      }
    }

    /**
     * Waits until the child's next save starts writing: creates its temporary file, or changes
     * the target itself (so that a save writing in place makes this test fail, not hang).
     * Events of the saves announced so far are discarded first.
     */
    void awaitWriting(WatchService watch, Path target)
        throws IOException, InterruptedException {
      // An event of those saves that comes in late is a write to a temporary file or a rename
      // onto the target: neither of the two below.
      for (WatchKey key = watch.poll(); key != null; key = watch.poll()) {
        key.pollEvents();
        key.reset();
      }
      while (true) {
        // Not a time limit: the wait ends with the first event, or fails if the child ended.
        WatchKey key = watch.poll(100, TimeUnit.MILLISECONDS);
        if (key == null) {
          if (!process.isAlive()) {
            failEnded("after its first save");
          }
          continue;
        }
        boolean writing = false;
        for (WatchEvent<?> e : key.pollEvents()) {
          if (e.context() instanceof Path file) {
            writing |= e.kind() == StandardWatchEventKinds.ENTRY_CREATE && isTemporary(file)
                || e.kind() == StandardWatchEventKinds.ENTRY_MODIFY
                    && file.equals(target.getFileName());
          }
        }
        key.reset();
        if (writing) {
          return;
        }
      }
    }

    /**
     * Kills the child with SIGKILL, waits until it is gone (and its file locks with it), then
     * reads the announcements it made before. Killed through its handle because
     * {@link Process#destroyForcibly} also closes stdout, losing what is still in the pipe; both
     * send SIGKILL on Linux, which the exit code confirms.
     */
    void kill() throws IOException, InterruptedException {
      process.toHandle().destroyForcibly();
      int exit = process.waitFor();
      if (exit != KILLED_BY_SIGKILL) {
        failEnded("before it was killed");
      }
      readSaves(false);
    }

    /** The step of the last save the child announced as completed. */
    long lastSaved() {
      return lastSaved;
    }

    /** Reads announcements, only the next one if {@code one}; false if stdout ended first. */
    private boolean readSaves(boolean one) throws IOException {
      for (String line = stdout.readLine(); line != null; line = stdout.readLine()) {
        assertTrue(line.matches("saved \\d+"), "unexpected line from the child: " + line);
        lastSaved = Long.parseLong(line.substring("saved ".length()));
        if (one) {
          return true;
        }
      }
      return false;
    }

    private void failEnded(String when) throws IOException, InterruptedException {
      int exit = process.waitFor();
      fail("the child ended " + when + " (exit code " + exit + "); its stderr:\n"
          + Files.readString(stderr));
    }

    @Override
    public void close() {
      process.destroyForcibly();
      try {
        process.waitFor();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Test
  void aJvmKilledWhileSavingLeavesTheLastSavedCheckpointIntactAndTheNextSaveDeletesItsTemporary()
      throws IOException, InterruptedException {
    Path checkpoints = Files.createDirectory(dir.resolve("checkpoints"));
    Path target = checkpoints.resolve("state.safetensors");
    // Seeded: a rerun kills after the same delays (where they land still depends on timing).
    SplittableRandom delays = new SplittableRandom(2024);
    // Where the kills landed, for the report: they vary with timing, and the checks hold for all.
    List<String> outcomes = new ArrayList<>();
    for (int round = 0; round < ROUNDS; round++) {
      Duration delay = Duration.ofNanos(1000L * delays.nextInt(MAX_KILL_DELAY_US));
      String where = "round " + round + " (killed " + delay.toNanos() / 1000
          + " us after a save began writing)";
      long lastSaved;
      try (WatchService watch = checkpoints.getFileSystem().newWatchService();
          ChildProcess child =
              new ChildProcess(target, dir.resolve("child-" + round + ".stderr"))) {
        checkpoints.register(
            watch, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY);
        // A completed save first, so that there is a checkpoint to lose; then the kill, a random
        // time after the next save started writing. (A delay after the first save alone would
        // mostly hit the child's next step, slow while its JIT warms up.)
        child.awaitSave();
        child.awaitWriting(watch, target);
        Thread.sleep(delay);
        child.kill();
        lastSaved = child.lastSaved();
      }
      assertTrue(Files.exists(target), where + ": the checkpoint is missing");
      List<Path> left = temporaries(checkpoints);
      try (Run loaded = new Run(); Run reference = new Run()) {
        try {
          loaded.optimizer().load(target);
        } catch (CheckpointException e) {
          // The header and every tensor carry a CRC32C: a torn file ends here.
          fail(where + ": the checkpoint does not load, the kill tore it: " + e.getMessage(), e);
        }
        long saved = loaded.steps();
        // The kill may fall between a save's rename and its announcement, not before the rename.
        assertTrue(saved == lastSaved || saved == lastSaved + 1,
            where + ": the checkpoint is of step " + saved + ", the last completed save was of"
                + " step " + lastSaved);
        while (reference.steps() < saved) {
          reference.step();
        }
        assertArrayEquals(TestStates.snapshot(reference.optimizer()),
            TestStates.snapshot(loaded.optimizer()),
            where + ": the checkpoint differs from the state after " + saved + " steps");
        outcomes.add(delay.toNanos() / 1000 + " us: step " + saved + " (announced " + lastSaved
            + "), " + left.size() + " temporary file(s) left");
        // The dead child's lock died with it: the next save into the directory deletes its file.
        loaded.optimizer().save(checkpoints.resolve("parent.safetensors"));
      }
      assertEquals(List.of(), temporaries(checkpoints),
          where + ": temporary files left after a save (before it: " + left + ")");
    }
    System.out.println("CheckpointCrashTest kills: " + outcomes);
  }

  private static boolean isTemporary(Path file) {
    String name = file.getFileName().toString();
    return name.startsWith(CheckpointWriter.TEMPORARY_PREFIX)
        && name.endsWith(CheckpointWriter.TEMPORARY_SUFFIX);
  }

  private static List<Path> temporaries(Path directory) throws IOException {
    try (Stream<Path> files = Files.list(directory)) {
      return files.filter(CheckpointCrashTest::isTemporary).sorted().toList();
    }
  }
}
