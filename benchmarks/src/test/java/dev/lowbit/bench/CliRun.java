package dev.lowbit.bench;

import java.io.PrintWriter;
import java.io.StringWriter;

/**
 * One in-process run of the {@code lowbit} command line, as {@link LowBitCli#main} runs it but
 * without exiting: its exit status and what it printed.
 *
 * @param status the exit status
 * @param out standard output
 * @param err standard error
 */
public record CliRun(int status, String out, String err) {

  /**
   * Runs {@code lowbit} with these arguments.
   *
   * @param args the arguments, a subcommand first
   * @return the status and output
   */
  public static CliRun of(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    var cli = LowBitCli.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    int status = cli.execute(args);
    return new CliRun(status, out.toString(), err.toString());
  }
}
