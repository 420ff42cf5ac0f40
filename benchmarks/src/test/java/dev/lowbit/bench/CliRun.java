package dev.lowbit.bench;

import java.io.BufferedWriter;
import java.io.PrintWriter;
import java.io.StringWriter;

/**
 * One in-process run of the {@code lowbit} command line, as {@link LowBitCli#main} runs it but
 * without exiting: its exit status and what it printed.
 *
 * <p>The writers buffer, as picocli's own do (a {@link PrintWriter} over a {@link BufferedWriter}),
 * and never flush by themselves: what a command prints but does not flush before it returns is
 * missing here, as it would be from a writer the caller set without auto-flush (picocli's default
 * writers flush at each {@code println}, not at a {@code print}). Anything printed to {@code
 * System.out} instead of the command's writer is missing too.
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
    cli.setOut(new PrintWriter(new BufferedWriter(out)));
    cli.setErr(new PrintWriter(new BufferedWriter(err)));
    int status = cli.execute(args);
    return new CliRun(status, out.toString(), err.toString());
  }
}
