package dev.lowbit.bench.data;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Makes the embedded Fashion-MNIST sample from a full copy: the first {@code perClassTrain}
 * training and {@code perClassTest} test images of each class, kept in file order (stratified,
 * so every class is equally represented), written as gzipped IDX files.
 *
 * <p>Usage: {@code java -cp lowbit.jar dev.lowbit.bench.data.MakeSample SOURCE_DIR TARGET_DIR
 * [perClassTrain perClassTest]}; the defaults are 500 and 100. Both selections are made before
 * anything is written, so a source that cannot give them leaves the target as it was.
 */
public final class MakeSample {

  private static final String USAGE =
      "usage: MakeSample SOURCE_DIR TARGET_DIR [perClassTrain perClassTest]";

  private MakeSample() {}

  /**
   * Writes the sample; exits with status 2 after a usage message if the arguments are wrong.
   *
   * @param args source directory, target directory, and optionally the two per-class counts
   * @throws IOException if a file cannot be read or written
   */
  public static void main(String[] args) throws IOException {
    int status = run(args, System.err);
    if (status != 0) {
      System.exit(status);
    }
  }

  /**
   * Writes the sample, or explains on {@code err} why the arguments cannot make one.
   *
   * @param args as for {@link #main}
   * @param err where usage errors go
   * @return 0 when written, 2 for a usage error (nothing written)
   * @throws IOException if a file cannot be read or written
   */
  static int run(String[] args, PrintStream err) throws IOException {
    if (args.length != 2 && args.length != 4) {
      err.println(USAGE);
      return 2;
    }
    try {
      int perClassTrain = args.length == 4 ? count("perClassTrain", args[2]) : 500;
      int perClassTest = args.length == 4 ? count("perClassTest", args[3]) : 100;
      make(Path.of(args[0]), Path.of(args[1]), perClassTrain, perClassTest);
      return 0;
    } catch (IllegalArgumentException e) {
      err.println(e.getMessage());
      err.println(USAGE);
      return 2;
    }
  }

  private static int count(String name, String text) {
    try {
      int n = Integer.parseInt(text);
      if (n >= 1) {
        return n;
      }
    } catch (NumberFormatException e) {
      // refused below, with the parameter's name
    }
    throw new IllegalArgumentException(name + " must be a positive integer, got '" + text + "'");
  }

  /**
   * Selects both sets, then writes the four files into {@code target}.
   *
   * @param source the full dataset's directory
   * @param target the sample's directory (created if missing)
   * @param perClassTrain training images kept per class
   * @param perClassTest test images kept per class
   * @throws IOException if a file cannot be read or written
   * @throws IllegalArgumentException naming the set and the class if a class has too few images
   *     (nothing is written then)
   */
  static void make(Path source, Path target, int perClassTrain, int perClassTest)
      throws IOException {
    FashionMnist full = FashionMnist.fromDirectory(source);
    LabeledImages train = stratified(full.train(), perClassTrain, "perClassTrain");
    LabeledImages test = stratified(full.test(), perClassTest, "perClassTest");
    Files.createDirectories(target);
    write(train, target, FashionMnist.TRAIN_IMAGES, FashionMnist.TRAIN_LABELS);
    write(test, target, FashionMnist.TEST_IMAGES, FashionMnist.TEST_LABELS);
  }

  /**
   * The first {@code perClass} images of each class, in their original order.
   *
   * @param all the images to choose from
   * @param perClass how many of each class to keep
   * @param name the count's name, for the error message
   * @return the selection
   * @throws IllegalArgumentException naming the first class with fewer than {@code perClass}
   *     images
   */
  static LabeledImages stratified(LabeledImages all, int perClass, String name) {
    int[] available = new int[FashionMnist.CLASSES];
    for (int i = 0; i < all.count(); i++) {
      available[all.label(i)]++;
    }
    for (int c = 0; c < FashionMnist.CLASSES; c++) {
      if (available[c] < perClass) {
        throw new IllegalArgumentException(
            name + " is " + perClass + ", but class " + c + " has only " + available[c]
                + " of the " + all.count() + " images");
      }
    }
    int n = perClass * FashionMnist.CLASSES; // at most all.count(), after the check
    int size = all.pixelsPerImage();
    byte[] pixels = new byte[n * size];
    byte[] labels = new byte[n];
    int[] taken = new int[FashionMnist.CLASSES];
    int kept = 0;
    for (int i = 0; kept < n; i++) {
      int label = all.label(i);
      if (taken[label] < perClass) {
        taken[label]++;
        System.arraycopy(all.pixels(), i * size, pixels, kept * size, size);
        labels[kept++] = (byte) label;
      }
    }
    return new LabeledImages(n, all.rows(), all.cols(), pixels, labels);
  }

  private static void write(LabeledImages images, Path dir, String imageName, String labelName)
      throws IOException {
    IdxWriter.writeGzip(
        dir.resolve(imageName + ".gz"),
        new int[] {images.count(), images.rows(), images.cols()},
        images.pixels());
    IdxWriter.writeGzip(
        dir.resolve(labelName + ".gz"), new int[] {images.count()}, images.labels());
  }
}
