package dev.lowbit.bench.memory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads a model's tensor shapes from text, one tensor per line:
 *
 * <pre>
 * # a comment; blank lines are ignored
 * NAME SHAPE [COUNT]
 * wte.weight 50257x768
 * h.*.attn.c_attn.weight 768x2304 12
 * </pre>
 *
 * <p>The file is UTF-8 text. {@code SHAPE} is the sizes joined by {@code x} (a single number
 * for a vector). {@code COUNT} (default 1) repeats the tensor, for example once per layer; a
 * {@code *} in the name is then replaced by the copy's index, from 0. Names must be unique after
 * expansion. The comment lines at the top, up to one starting with {@code Format:}, describe the
 * model and its source.
 *
 * <p>A file is refused (naming the line) if it would hold more than {@link #MAX_TENSORS} tensors
 * after expansion, or if the model's parameter count or any optimizer's state bytes ({@link
 * StateFormula#all()}) would exceed {@code Long.MAX_VALUE}.
 */
public final class ShapeFile {

  /** The most tensors a file may hold after {@code COUNT} expansion. */
  public static final int MAX_TENSORS = 100_000;

  private ShapeFile() {}

  /**
   * Reads a shape file; the model is named after the file (without its extension).
   *
   * @param file the file
   * @return the model
   * @throws ShapeFileException naming the file and line if it is missing or malformed
   */
  public static ModelShapes read(Path file) throws ShapeFileException {
    String source = file.toString();
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new ShapeFileException(source, 0, "file not found");
    } catch (AccessDeniedException e) {
      // Its message is only the path, which the report already names.
      throw new ShapeFileException(source, 0, "cannot be read: permission denied");
    } catch (CharacterCodingException e) {
      // The decoder's own message is only "Input length = 1".
      throw new ShapeFileException(source, 0, "is not UTF-8 text");
    } catch (IOException e) {
      throw new ShapeFileException(source, 0, "cannot be read: " + e.getMessage());
    }
    String fileName = file.getFileName().toString();
    int dot = fileName.lastIndexOf('.');
    return parse(dot > 0 ? fileName.substring(0, dot) : fileName, source, lines);
  }

  /**
   * Reads a shape file from the class path.
   *
   * @param name the model's name
   * @param resource the resource path
   * @return the model
   * @throws ShapeFileException if the resource is missing or malformed
   */
  static ModelShapes readResource(String name, String resource) throws ShapeFileException {
    try (InputStream in = ShapeFile.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new ShapeFileException("classpath:" + resource, 0, "resource is missing");
      }
      String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      return parse(name, "classpath:" + resource, text.lines().toList());
    } catch (ShapeFileException e) {
      throw e;
    } catch (IOException e) {
      throw new ShapeFileException("classpath:" + resource, 0, "cannot be read: " + e);
    }
  }

  /**
   * Parses the lines of a shape file.
   *
   * @param name the model's name
   * @param source the file's name, for error messages and the report
   * @param lines the lines
   * @return the model
   * @throws ShapeFileException naming the file and line of the first problem
   */
  public static ModelShapes parse(String name, String source, List<String> lines)
      throws ShapeFileException {
    List<TensorShape> tensors = new ArrayList<>();
    Set<String> names = new HashSet<>();
    List<StateFormula> formulas = StateFormula.all();
    long parameters = 0;
    long[] stateBytes = new long[formulas.size()];
    StringBuilder description = new StringBuilder();
    boolean inHeader = true;
    for (int i = 0; i < lines.size(); i++) {
      int lineNumber = i + 1;
      String line = lines.get(i).strip();
      if (line.startsWith("#")) {
        String comment = line.substring(1).strip();
        inHeader &= !comment.startsWith("Format:");
        if (inHeader) {
          description.append(description.isEmpty() ? "" : " ").append(comment);
        }
        continue;
      }
      inHeader = false;
      int hash = line.indexOf('#');
      if (hash >= 0) {
        line = line.substring(0, hash).strip();
      }
      if (line.isEmpty()) {
        continue;
      }
      String[] fields = line.split("\\s+");
      if (fields.length < 2 || fields.length > 3) {
        throw new ShapeFileException(
            source,
            lineNumber,
            "expected 'NAME SHAPE [COUNT]' (e.g. 'fc1.weight 1024x784'), got '" + line + "'");
      }
      long[] dims = parseShape(source, lineNumber, fields[1]);
      int count = fields.length == 3 ? parseCount(source, lineNumber, fields[2]) : 1;
      if (count > MAX_TENSORS - tensors.size()) {
        throw new ShapeFileException(
            source,
            lineNumber,
            "COUNT "
                + count
                + " would make more than "
                + MAX_TENSORS
                + " tensors in the file");
      }
      TensorShape shape = new TensorShape(fields[0], dims);
      String what = "parameters";
      try {
        parameters = Math.addExact(parameters, Math.multiplyExact(shape.elements(), count));
        for (int f = 0; f < formulas.size(); f++) {
          what = formulas.get(f).name() + " state bytes";
          stateBytes[f] =
              Math.addExact(stateBytes[f], Math.multiplyExact(formulas.get(f).bytes(shape), count));
        }
      } catch (ArithmeticException e) {
        throw new ShapeFileException(
            source,
            lineNumber,
            "'"
                + fields[1]
                + (count > 1 ? " x " + count : "")
                + "' is too large: the model's "
                + what
                + " would exceed "
                + Long.MAX_VALUE);
      }
      for (int copy = 0; copy < count; copy++) {
        String tensorName = count > 1 ? fields[0].replace("*", Integer.toString(copy)) : fields[0];
        if (!names.add(tensorName)) {
          throw new ShapeFileException(
              source,
              lineNumber,
              "tensor name '"
                  + tensorName
                  + "' appears twice"
                  + (count > 1 && !fields[0].contains("*")
                      ? " (use '*' in a repeated name for the copy's index)"
                      : ""));
        }
        tensors.add(new TensorShape(tensorName, dims));
      }
    }
    if (tensors.isEmpty()) {
      throw new ShapeFileException(source, 0, "no tensors (every line is blank or a comment)");
    }
    return new ModelShapes(
        name, description.isEmpty() ? source : description.toString(), tensors);
  }

  private static long[] parseShape(String source, int line, String text)
      throws ShapeFileException {
    String[] parts = text.split("x", -1);
    long[] dims = new long[parts.length];
    long elements = 1;
    for (int d = 0; d < parts.length; d++) {
      try {
        dims[d] = Long.parseLong(parts[d]);
      } catch (NumberFormatException e) {
        throw new ShapeFileException(
            source,
            line,
            "shape '" + text + "': size " + (d + 1) + " ('" + parts[d] + "') is not a number");
      }
      if (dims[d] <= 0) {
        throw new ShapeFileException(
            source, line, "shape '" + text + "': size " + (d + 1) + " must be positive");
      }
      try {
        elements = Math.multiplyExact(elements, dims[d]);
      } catch (ArithmeticException e) {
        throw new ShapeFileException(source, line, "shape '" + text + "' is too large");
      }
    }
    return dims;
  }

  private static int parseCount(String source, int line, String text) throws ShapeFileException {
    try {
      int count = Integer.parseInt(text);
      if (count >= 1) {
        return count;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new ShapeFileException(
        source, line, "COUNT '" + text + "' must be a positive whole number");
  }
}
