package dev.lowbit.bench.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Fashion-MNIST (Zalando SE, MIT license): 28x28 grey-scale images of 10 kinds of clothing.
 *
 * <p>Where it comes from, in order: a directory given by the user; the Debian package
 * {@code dataset-fashion-mnist} at {@link #DEBIAN_DIRECTORY}; the small sample embedded in this
 * jar (see {@code fashion-mnist-sample/README.md} next to this class for how it was made).
 *
 * @param train the training images
 * @param test the test images
 * @param origin a sentence saying where the data came from, for the command's output
 */
public record FashionMnist(LabeledImages train, LabeledImages test, String origin) {

  /** Number of classes. */
  public static final int CLASSES = 10;

  /** Rows and columns of every image (the models take 28x28 input). */
  public static final int SIDE = 28;

  /** Where the Debian package {@code dataset-fashion-mnist} installs the dataset. */
  public static final Path DEBIAN_DIRECTORY = Path.of("/usr/share/datasets/fashion-mnist");

  /** Class-path location of the embedded sample. */
  public static final String SAMPLE_RESOURCE = "/dev/lowbit/bench/data/fashion-mnist-sample/";

  /** The four file names (without {@code .gz}) of the dataset, as published. */
  static final String TRAIN_IMAGES = "train-images-idx3-ubyte";

  static final String TRAIN_LABELS = "train-labels-idx1-ubyte";
  static final String TEST_IMAGES = "t10k-images-idx3-ubyte";
  static final String TEST_LABELS = "t10k-labels-idx1-ubyte";

  /**
   * Chooses the data: {@code directory} when given, else the Debian package's copy when present,
   * else the embedded sample.
   *
   * @param directory a directory holding the four IDX files, or null
   * @return the dataset and where it came from
   * @throws IOException naming the file if a file is missing or malformed
   */
  public static FashionMnist select(Path directory) throws IOException {
    if (directory != null) {
      return fromDirectory(directory);
    }
    if (Files.isDirectory(DEBIAN_DIRECTORY)) {
      FashionMnist debian = fromDirectory(DEBIAN_DIRECTORY);
      return new FashionMnist(
          debian.train(),
          debian.test(),
          "Fashion-MNIST from the Debian package dataset-fashion-mnist at " + DEBIAN_DIRECTORY);
    }
    return embeddedSample();
  }

  /**
   * Loads the four files from a directory; each may be plain or end in {@code .gz}.
   *
   * @param directory the directory
   * @return the dataset
   * @throws IOException naming the file if a file is missing or malformed, or if its images are
   *     not {@value #SIDE}x{@value #SIDE}
   */
  public static FashionMnist fromDirectory(Path directory) throws IOException {
    if (!Files.isDirectory(directory)) {
      throw new IdxFormatException(directory.toString(), "not a directory");
    }
    return new FashionMnist(
        pair(directory, TRAIN_IMAGES, TRAIN_LABELS),
        pair(directory, TEST_IMAGES, TEST_LABELS),
        "Fashion-MNIST from " + directory);
  }

  /**
   * Reads an image file and its label file (in that order: a damaged or missing file is named
   * first), then refuses images that are not {@value #SIDE}x{@value #SIDE}: they failed later, in
   * training, with a DJL buffer-size error that named no file.
   */
  private static LabeledImages pair(Path directory, String imageName, String labelName)
      throws IOException {
    Path file = find(directory, imageName);
    IdxArray images = IdxReader.read(file);
    IdxArray labels = IdxReader.read(find(directory, labelName));
    int[] dims = images.dimensions();
    if (dims.length == 3 && (dims[1] != SIDE || dims[2] != SIDE)) {
      throw new IdxFormatException(
          file.toString(),
          "images are "
              + dims[1]
              + "x"
              + dims[2]
              + ", but Fashion-MNIST images (which the models take) are "
              + SIDE
              + "x"
              + SIDE);
    }
    return LabeledImages.of(images, labels, CLASSES);
  }

  /**
   * Loads the sample embedded in the jar (stratified: the first 500 training and 100 test images
   * of each class, in file order).
   *
   * @return the sample
   * @throws IOException if the resource is missing or damaged
   */
  public static FashionMnist embeddedSample() throws IOException {
    LabeledImages train =
        LabeledImages.of(resource(TRAIN_IMAGES), resource(TRAIN_LABELS), CLASSES);
    LabeledImages test = LabeledImages.of(resource(TEST_IMAGES), resource(TEST_LABELS), CLASSES);
    return new FashionMnist(
        train,
        test,
        String.format(
            Locale.ROOT,
            "embedded Fashion-MNIST sample (%,d training, %,d test images; install"
                + " dataset-fashion-mnist or pass --data DIR for the full dataset)",
            train.count(),
            test.count()));
  }

  private static IdxArray resource(String name) throws IOException {
    String path = SAMPLE_RESOURCE + name + ".gz";
    try (InputStream in = FashionMnist.class.getResourceAsStream(path)) {
      if (in == null) {
        throw new IdxFormatException("classpath:" + path, "embedded sample resource is missing");
      }
      return IdxReader.read("classpath:" + path, in);
    }
  }

  private static Path find(Path directory, String name) throws IdxFormatException {
    Path plain = directory.resolve(name);
    if (Files.exists(plain)) {
      return plain;
    }
    Path gz = directory.resolve(name + ".gz");
    if (Files.exists(gz)) {
      return gz;
    }
    throw new IdxFormatException(
        gz.toString(), "file not found (nor " + plain.getFileName() + " without .gz)");
  }
}
