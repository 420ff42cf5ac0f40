package dev.lowbit.bench.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedWriter;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** When the progress bar redraws in place, and what it prints otherwise. */
class ProgressBarTest {

  @Test
  void stderrRedirectedToAFileOrPipeGetsPlainLinesEvenFromATerminal() {
    // stdin and stdout on the terminal, stderr to a log: was redrawn into the log
    assertFalse(ProgressBar.decide(null, Optional.of("/home/me/run.log"), true));
    assertFalse(ProgressBar.decide(null, Optional.of("pipe:[123456]"), true));
    assertTrue(ProgressBar.decide(null, Optional.of("/dev/pts/3"), false));
    assertTrue(ProgressBar.decide(null, Optional.of("/dev/tty1"), false));
  }

  @Test
  void withoutTheStderrTargetTheConsoleDecidesAndTheModeOverrides() {
    assertTrue(ProgressBar.decide(null, Optional.empty(), true));
    assertFalse(ProgressBar.decide(null, Optional.empty(), false));
    assertFalse(ProgressBar.decide("lines", Optional.of("/dev/pts/3"), true));
    assertTrue(ProgressBar.decide("BAR", Optional.of("/tmp/log"), false));
    assertFalse(ProgressBar.decide("other", Optional.of("/tmp/log"), true));
  }

  @Test
  void plainModePrintsOneLinePerEpochAndNoRedraws() {
    StringWriter out = new StringWriter();
    ProgressBar bar = new ProgressBar(new PrintWriter(out), false, "x seed 1", 10);
    bar.step(3, "loss 1.0");
    bar.epoch(10, "epoch 1");
    assertFalse(out.toString().contains("\r"), out.toString());
    assertTrue(out.toString().startsWith("x seed 1 epoch 1"), out.toString());
  }

  @Test
  void onATerminalTheBarIsRedrawnInPlaceAndEndsWithANewLineAtTheLastStep() {
    StringWriter out = new StringWriter();
    ProgressBar bar = new ProgressBar(new PrintWriter(out), true, "x seed 1", 4);
    bar.step(1, "loss 2.0"); // the first draw is never held back
    bar.epoch(2, "epoch 1/2");
    bar.epoch(4, "epoch 2/2");
    assertEquals(
        "\rx seed 1 [" + "#".repeat(7) + ".".repeat(23) + "]  25% loss 2.0   "
            + "\rx seed 1 [" + "#".repeat(15) + ".".repeat(15) + "]  50% epoch 1/2   "
            + "\rx seed 1 [" + "#".repeat(30) + "] 100% epoch 2/2   \n",
        out.toString());
  }

  @Test
  void theModePropertyDecidesOverTheTerminal() {
    String before = System.getProperty(ProgressBar.MODE_PROPERTY);
    try {
      System.setProperty(ProgressBar.MODE_PROPERTY, "bar");
      assertTrue(ProgressBar.stderrIsTerminal());
      System.setProperty(ProgressBar.MODE_PROPERTY, "lines");
      assertFalse(ProgressBar.stderrIsTerminal());
    } finally {
      if (before == null) {
        System.clearProperty(ProgressBar.MODE_PROPERTY);
      } else {
        System.setProperty(ProgressBar.MODE_PROPERTY, before);
      }
    }
  }

  /**
   * Redraws are held back for 100 ms, except the last step's; each draw is flushed (a bar on a
   * buffered stderr would otherwise appear only at the end).
   */
  @Test
  void aStepWithin100MillisecondsOfTheLastDrawIsHeldBackUnlessItIsTheLast() {
    StringWriter out = new StringWriter();
    ProgressBar bar =
        new ProgressBar(new PrintWriter(new BufferedWriter(out)), true, "x", 4);
    long start = System.nanoTime();
    bar.step(1, "a");
    String first = out.toString();
    bar.step(2, "b");
    String second = out.toString();
    bar.step(4, "c");
    long elapsed = System.nanoTime() - start;
    assumeTrue(elapsed < 100_000_000L, "the three steps took " + elapsed + " ns");
    assertEquals("\rx [" + "#".repeat(7) + ".".repeat(23) + "]  25% a   ", first);
    assertEquals(first, second, "step 2 came within 100 ms: held back");
    assertEquals(first + "\rx [" + "#".repeat(30) + "] 100% c   ", out.toString());
  }
}
