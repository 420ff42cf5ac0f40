package dev.lowbit.bench.compare;

import java.io.PrintWriter;

/**
 * A progress bar on one line of stderr. On a terminal it redraws in place (at most ten times a
 * second); otherwise (a pipe, a file, a test) it prints one plain line per epoch so logs stay
 * readable.
 */
public final class ProgressBar {

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
   * Whether stderr is an interactive terminal.
   *
   * @return true when redrawing in place makes sense
   */
  public static boolean stderrIsTerminal() {
    java.io.Console console = System.console();
    return console != null && console.isTerminal();
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
