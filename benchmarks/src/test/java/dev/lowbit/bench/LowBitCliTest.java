package dev.lowbit.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Every bad-input report of {@code lowbit} has one form, whether picocli or the subcommand
 * refuses the input: {@code lowbit <command>: error: ...}, then a pointer to the help, status 2.
 */
class LowBitCliTest {

  private static CliRun run(String... args) {
    return CliRun.of(args);
  }

  @Test
  void anOptionPicocliRefusesIsReportedAsTheCommandsOwnErrorsAre() {
    CliRun picocli = run("compare", "--model", "nosuch");
    assertEquals(2, picocli.status());
    assertTrue(picocli.err().startsWith(
        "lowbit compare: error: Invalid value for option '--model'"), picocli.err());
    assertTrue(picocli.err().endsWith("Try 'lowbit compare --help'.\n"), picocli.err());
    assertFalse(picocli.err().contains("Usage:"), "the whole usage text: " + picocli.err());

    CliRun own = run("compare", "--epochs", "0");
    assertEquals(2, own.status());
    assertEquals("lowbit compare: error: --epochs must be at least 1, got 0\n", own.err());
  }

  @Test
  void anUnknownOptionGetsTheHintAndSuggestions() {
    CliRun run = run("memory", "--jsn");
    assertEquals(2, run.status());
    assertTrue(run.err().startsWith("lowbit memory: error: Unknown option: '--jsn'"), run.err());
    assertTrue(run.err().contains("--json"), "no suggestion: " + run.err());
    assertTrue(run.err().endsWith("Try 'lowbit memory --help'.\n"), run.err());
  }

  @Test
  void noSubcommandPrintsTheUsageToTheCommandsWriter() {
    CliRun run = run();
    assertEquals(0, run.status(), run.err());
    assertTrue(run.out().startsWith("Usage: lowbit "), run.out());
    for (String command : new String[] {"compare", "memory", "speed", "quant-error"}) {
      assertTrue(run.out().contains("\n  " + command + " "), command + " missing: " + run.out());
    }
    assertEquals("", run.err());
  }

  @Test
  void aFailingCommandsErrorLineIsFlushedWithoutTheHelpPointer() {
    CliRun run = run("memory", "--measure-limit", "-1");
    assertEquals(2, run.status());
    assertEquals("lowbit memory: error: --measure-limit must not be negative\n", run.err());
    assertEquals("", run.out());
  }
}
