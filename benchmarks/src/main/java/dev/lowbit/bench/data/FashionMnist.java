package dev.lowbit.bench.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

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
   * @throws IOException naming the file if a file is missing or malformed
   */
  public static FashionMnist fromDirectory(Path directory) throws IOException {
    if (!Files.isDirectory(directory)) {
      throw new IdxFormatException(directory.toString(), "not a directory");
    }
    LabeledImages train =
        LabeledImages.of(
            IdxReader.read(find(directory, TRAIN_IMAGES)),
            IdxReader.read(find(directory, TRAIN_LABELS)),
            CLASSES);
    LabeledImages test =
        LabeledImages.of(
            IdxReader.read(find(directory, TEST_IMAGES)),
            IdxReader.read(find(directory, TEST_LABELS)),
            CLASSES);
    checkSameImageSize(train, test, directory);
    return new FashionMnist(train, test, "Fashion-MNIST from " + directory);
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
        "embedded Fashion-MNIST sample ("
            + train.count()
            + " training, "
            + test.count()
            + " test images; install dataset-fashion-mnist or pass --data DIR for the full"
            + " dataset)");
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

  private static void checkSameImageSize(LabeledImages train, LabeledImages test, Path dir)
      throws IdxFormatException {
    if (train.rows() != test.rows() || train.cols() != test.cols()) {
      throw new IdxFormatException(
          dir.resolve(TEST_IMAGES).toString(),
          "test images are "
              + test.rows()
              + "x"
              + test.cols()
              + " but training images are "
              + train.rows()
              + "x"
              + train.cols());
    }
  }
}
