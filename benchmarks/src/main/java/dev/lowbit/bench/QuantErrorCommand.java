package dev.lowbit.bench;

import dev.lowbit.bench.quanterror.AdamMoments;
import dev.lowbit.bench.quanterror.QuantErrorReport;
import dev.lowbit.bench.shampoo.ShampooErrorTable;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code lowbit quant-error}: the quantization error of each code book and normalization on
 * reproducible Adam-like moments (see {@link AdamMoments} for how they are generated).
 */
@Command(
    name = "quant-error",
    mixinStandardHelpOptions = true,
    description = {
      "Quantization error of each code book and normalization on Adam-like moments.",
      "Heavy-tailed gradients with row/column structure are run through Adam's m and v"
          + " recurrences (beta1 0.9, beta2 0.999); each first-moment (m) and second-moment (v)"
          + " format quantizes the result. Columns: relative L2 error, largest relative error of"
          + " a non-zero value, and the fraction of non-zero values that decode to 0.",
      "With --shampoo: the error of Shampoo's inverse 4th root A^(-1/4) when A, or its"
          + " eigenvectors U, are stored in 4 bits (order-1200 matrices; about a minute)."
    })
public final class QuantErrorCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = "--json", description = "Print the result as one JSON object.")
  boolean json;

  @Option(
      names = "--shapes",
      split = ",",
      defaultValue = "1024x1024,4096x1024,65537",
      description =
          "Tensor shapes, sizes joined by 'x', separated by commas (default: ${DEFAULT-VALUE}).")
  List<String> shapes;

  @Option(
      names = "--steps",
      defaultValue = "20",
      description = "Gradient steps accumulated into the moments (default: ${DEFAULT-VALUE}).")
  int steps;

  @Option(
      names = "--seed",
      defaultValue = "1",
      description = "Random seed (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--shampoo",
      description =
          "Print the Shampoo preconditioner table instead: normalized error of A^(-1/4) for 4-bit"
              + " A, 4-bit eigenvectors U, and 4-bit U with Bjorck rectification, on a synthetic"
              + " and a training-run SPD matrix of order 1200 (fixed: --shapes, --steps and"
              + " --seed do not apply). Exits with 1 if the paper's ordering fails.")
  boolean shampoo;

  /** Creates the command; picocli sets its options from the command line. */
  public QuantErrorCommand() {}

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    if (shampoo) {
      // Its matrices are fixed: a value given for these would be ignored, a bad one unchecked.
      var parsed = spec.commandLine().getParseResult();
      if (parsed.hasMatchedOption("--shapes") || parsed.hasMatchedOption("--steps")
          || parsed.hasMatchedOption("--seed")) {
        throw new ParameterException(
            spec.commandLine(),
            "--shampoo takes none of --shapes, --steps and --seed (its matrices are fixed)");
      }
      int status = ShampooErrorTable.run(out, json);
      out.flush();
      return status;
    }
    if (steps < 1) {
      throw new ParameterException(spec.commandLine(), "--steps must be at least 1, got " + steps);
    }
    if (shapes.isEmpty()) {
      // "--shapes ,," splits into no shapes; measured, they gave 0.0 for every error
      throw new ParameterException(
          spec.commandLine(), "--shapes: no shape given (e.g. 1024x1024,65537)");
    }
    List<long[]> parsed = shapes.stream().map(this::parseShape).toList();
    checkFitsInHeap(parsed);
    List<AdamMoments> tensors = new ArrayList<>();
    for (int k = 0; k < shapes.size(); k++) {
      long[] shape = parsed.get(k);
      try {
        tensors.add(AdamMoments.generate(shape, steps, seed + k));
      } catch (IllegalArgumentException e) {
        throw new ParameterException(spec.commandLine(), "--shapes: " + e.getMessage());
      }
    }
    QuantErrorReport report = QuantErrorReport.measure(tensors);
    if (json) {
      out.println(report.toJson());
    } else {
      out.printf(
          "Adam-like moments after %d steps, seed %d, shapes %s%n%n",
          steps, seed, String.join(", ", tensors.stream().map(AdamMoments::label).toList()));
      out.print(report.toTable());
    }
    out.flush();
    return 0;
  }

  /** Bytes per element kept for every tensor: its m and v as floats. */
  private static final long BYTES_PER_ELEMENT = 8;

  /**
   * Bytes per element of the largest tensor while one format is measured: a float copy of the
   * moment, its dequantized floats, and the codes and scales (at most a byte and a bit), rounded
   * up.
   */
  private static final long WORK_BYTES_PER_ELEMENT = 12;

  /**
   * Refuses shapes whose moments and measurement would not fit in the maximum heap, before
   * anything is allocated (an OutOfMemoryError otherwise, after minutes of generation).
   */
  private void checkFitsInHeap(List<long[]> parsed) {
    long elements = 0;
    long largest = 0;
    for (long[] shape : parsed) {
      long n = shape.length == 2 ? shape[0] * shape[1] : shape[0]; // parseShape bounds both
      elements += n;
      largest = Math.max(largest, n);
    }
    long need = BYTES_PER_ELEMENT * elements + WORK_BYTES_PER_ELEMENT * largest;
    long max = Runtime.getRuntime().maxMemory();
    if (need > max) {
      throw new ParameterException(
          spec.commandLine(),
          String.format(
              Locale.ROOT,
              "--shapes: %,d elements need about %,d MiB of heap, more than the maximum heap of"
                  + " %,d MiB (use smaller shapes or raise -Xmx)",
              elements,
              need >> 20,
              max >> 20));
    }
  }

  private long[] parseShape(String text) {
    try {
      // -1 keeps trailing empty parts, so '1024x' is refused rather than read as 1024.
      long[] shape =
          Arrays.stream(text.trim().split("x", -1)).mapToLong(Long::parseLong).toArray();
      if (shape.length < 1 || shape.length > 2 || Arrays.stream(shape).anyMatch(d -> d < 1)) {
        throw new NumberFormatException();
      }
      long cols = shape.length == 2 ? shape[1] : 1;
      if (shape[0] > (Integer.MAX_VALUE - 8) / cols) {
        throw new ParameterException(
            spec.commandLine(),
            "--shapes: '" + text + "' has more than " + (Integer.MAX_VALUE - 8)
                + " elements (the most a Java array holds)");
      }
      return shape;
    } catch (NumberFormatException e) {
      throw new ParameterException(
          spec.commandLine(),
          "--shapes: '" + text
              + "' is not a shape like 1024x1024 or 65537 (1 or 2 positive sizes)");
    }
  }
}
