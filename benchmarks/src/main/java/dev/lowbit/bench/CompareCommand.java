package dev.lowbit.bench;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code lowbit compare}: Train a model on Fashion-MNIST with each optimizer; print memory, accuracy, loss and step time side by side. */
@Command(name = "compare", mixinStandardHelpOptions = true, description = "Train a model on Fashion-MNIST with each optimizer; print memory, accuracy, loss and step time side by side.")
public final class CompareCommand implements Callable<Integer> {

  @Option(names = "--json", description = "Print the result as one JSON object.")
  boolean json;

  @Override
  public Integer call() {
    System.err.println("lowbit compare: not yet available");
    return 2;
  }
}
