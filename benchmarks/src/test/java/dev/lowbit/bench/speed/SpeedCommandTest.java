package dev.lowbit.bench.speed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.bench.LowBitCli;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** {@code lowbit speed}'s option checks, run in process (no timing). */
class SpeedCommandTest {

  @Test
  void paramsThatCannotFitTheHeapAreAUsageError() {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    var cli = LowBitCli.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    // 2^31 - 1 parameters need 32 GiB: was an OutOfMemoryError after the first warm-ups
    int status = cli.execute("speed", "--params", Integer.toString(Integer.MAX_VALUE));
    assertEquals(2, status, err.toString());
    assertTrue(
        err.toString().contains("--params 2,147,483,647 needs about 32,767 MiB of heap"),
        err.toString());
    assertEquals("", out.toString());
  }
}
