package dev.lowbit.bench;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code lowbit quant-error}: Quantization error of each code book and normalization on Adam-like moments. */
@Command(name = "quant-error", mixinStandardHelpOptions = true, description = "Quantization error of each code book and normalization on Adam-like moments.")
public final class QuantErrorCommand implements Callable<Integer> {

  @Option(names = "--json", description = "Print the result as one JSON object.")
  boolean json;

  @Override
  public Integer call() {
    System.err.println("lowbit quant-error: not yet available");
    return 2;
  }
}
