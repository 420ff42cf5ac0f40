package dev.lowbit.bench.compare;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * A progress bar on one line of stderr. On a terminal it redraws in place (at most ten times a
 * second); otherwise (a pipe, a file, a test) it prints one plain line per epoch so logs stay
 * readable.
 *
 * <p>Whether stderr is a terminal ({@link #stderrIsTerminal()}), in order:
 *
 * <ol>
 *   <li>the system property {@value #MODE_PROPERTY}, else the environment variable {@value
 *       #MODE_ENV}: {@code bar} forces redrawing, {@code lines} plain lines;
 *   <li>where the target of file descriptor 2 can be read ({@code /proc/self/fd/2}, Linux): a
 *       terminal when it is a {@code /dev/pts/}, {@code /dev/tty} or {@code /dev/console} device,
 *       so {@code 2>log} or {@code 2>&1 | tee} gets plain lines even from a terminal;
 *   <li>otherwise (Java itself cannot tell where stderr goes): a terminal only when {@link
 *       System#console()} says stdin and stdout are one ({@link java.io.Console#isTerminal()}),
 *       and plain lines whenever either is redirected.
 * </ol>
 */
public final class ProgressBar {

  /** System property choosing the mode: {@code bar} or {@code lines}. */
  public static final String MODE_PROPERTY = "lowbit.progress";

  /** Environment variable choosing the mode when the property is not set. */
  public static final String MODE_ENV = "LOWBIT_PROGRESS";

  private static final int WIDTH = 30;
  private static final long REDRAW_NANOS = 100_000_000L;

  private final PrintWriter out;
  private final boolean terminal;
  private final String label;
  private final long total;
  private long lastDraw;

  /**
   * Starts a bar.
   *
   * @param out where to draw
   * @param terminal true to redraw in place, false for plain lines
   * @param label what is running, shown before the bar
   * @param total the number of steps in the whole run
   */
  public ProgressBar(PrintWriter out, boolean terminal, String label, long total) {
    this.out = out;
    this.terminal = terminal;
    this.label = label;
    this.total = Math.max(1, total);
  }

  /**
   * Whether stderr is an interactive terminal, by the rule in the class description.
   *
   * @return true when redrawing in place makes sense
   */
  public static boolean stderrIsTerminal() {
    String mode = System.getProperty(MODE_PROPERTY);
    if (mode == null) {
      mode = System.getenv(MODE_ENV);
    }
    Optional<String> stderrTarget;
    try {
      stderrTarget = Optional.of(Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString());
    } catch (IOException | UnsupportedOperationException | SecurityException e) {
      stderrTarget = Optional.empty();
    }
    java.io.Console console = System.console();
    return decide(mode, stderrTarget, console != null && console.isTerminal());
  }

  /**
   * The rule of {@link #stderrIsTerminal()} on its inputs.
   *
   * @param mode {@code bar}, {@code lines}, or null (or anything else) to decide from the rest
   * @param stderrTarget what file descriptor 2 links to, when known
   * @param consoleIsTerminal whether stdin and stdout are a terminal
   * @return true to redraw in place
   */
  static boolean decide(String mode, Optional<String> stderrTarget, boolean consoleIsTerminal) {
    if (mode != null) {
      switch (mode.strip().toLowerCase(Locale.ROOT)) {
        case "bar":
          return true;
        case "lines":
          return false;
        default:
          break;
      }
    }
    if (stderrTarget.isPresent()) {
      String target = stderrTarget.get();
      return target.startsWith("/dev/pts/")
          || target.startsWith("/dev/tty")
          || target.equals("/dev/console");
    }
    return consoleIsTerminal;
  }

  /**
   * Reports progress within an epoch.
   *
   * @param done steps done in the whole run
   * @param status a short status, such as the running loss
   */
  public void step(long done, String status) {
    if (!terminal) {
      return;
    }
    long now = System.nanoTime();
    if (done < total && now - lastDraw < REDRAW_NANOS) {
      return;
    }
    lastDraw = now;
    int filled = (int) (WIDTH * done / total);
    out.print(
        "\r"
            + label
            + " ["
            + "#".repeat(filled)
            + ".".repeat(WIDTH - filled)
            + "] "
            + String.format("%3d%% ", 100 * done / total)
            + status
            + "   ");
    out.flush();
  }

  /**
   * Reports the end of an epoch: on a terminal it updates the bar, otherwise it prints a line.
   *
   * @param done steps done in the whole run
   * @param status the epoch's summary
   */
  public void epoch(long done, String status) {
    if (terminal) {
      lastDraw = 0;
      step(done, status);
      if (done >= total) {
        out.println();
      }
    } else {
      out.println(label + " " + status);
    }
  }
}
