package dev.lowbit.bench.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tool that made the embedded Fashion-MNIST sample: from a small made-up dataset, it keeps the
 * first images of each class in file order with their own labels; bad arguments and too small
 * classes are refused before anything is written; and the shipped sample is what its README says.
 */
class MakeSampleTest {

  private static final int PIXELS = FashionMnist.SIDE * FashionMnist.SIDE;

  @TempDir Path dir;

  /**
   * Labels of the made-up training set: four images of class 0 first, then classes in the order
   * 0, 3, 6, 9, 2, 5, 8, 1, 4, 7, three times over (34 images, each class at least 3 times).
   */
  private static byte[] trainLabels() {
    byte[] labels = new byte[34];
    for (int i = 0; i < labels.length; i++) {
      labels[i] = (byte) (i < 4 ? 0 : (i - 4) * 3 % 10);
    }
    return labels;
  }

  /** Labels of the made-up test set: each class twice, 9 down to 0, then 0 up to 9. */
  private static byte[] testLabels() {
    byte[] labels = new byte[20];
    for (int i = 0; i < 10; i++) {
      labels[i] = (byte) (9 - i);
      labels[10 + i] = (byte) i;
    }
    return labels;
  }

  /**
   * Writes a dataset whose image {@code i} has every pixel {@code i}, so each output image tells
   * which source image it is.
   */
  private static void writeSource(Path source, byte[] trainLabels, byte[] testLabels)
      throws IOException {
    Files.createDirectories(source);
    write(source, "train", trainLabels);
    write(source, "t10k", testLabels);
  }

  private static void write(Path source, String set, byte[] labels) throws IOException {
    byte[] pixels = new byte[labels.length * PIXELS];
    for (int i = 0; i < labels.length; i++) {
      Arrays.fill(pixels, i * PIXELS, (i + 1) * PIXELS, (byte) i);
    }
    int n = labels.length;
    IdxWriter.writeGzip(
        source.resolve(set + "-images-idx3-ubyte.gz"),
        new int[] {n, FashionMnist.SIDE, FashionMnist.SIDE},
        pixels);
    IdxWriter.writeGzip(source.resolve(set + "-labels-idx1-ubyte.gz"), new int[] {n}, labels);
  }

  /** The indices the documented rule keeps: in file order, an image while its class has room. */
  private static List<Integer> firstOfEachClass(byte[] labels, int perClass) {
    int[] taken = new int[FashionMnist.CLASSES];
    List<Integer> kept = new ArrayList<>();
    for (int i = 0; i < labels.length; i++) {
      if (taken[labels[i]]++ < perClass) {
        kept.add(i);
      }
    }
    return kept;
  }

  /** Each output image's source index (its pixel value), checking the image is uniform. */
  private static List<Integer> sourceIndices(LabeledImages images) {
    List<Integer> indices = new ArrayList<>();
    byte[] pixels = images.pixels();
    for (int k = 0; k < images.count(); k++) {
      byte first = pixels[k * PIXELS];
      for (int p = 1; p < PIXELS; p++) {
        assertEquals(first, pixels[k * PIXELS + p], "image " + k + ", pixel " + p);
      }
      indices.add(first & 0xff);
    }
    return indices;
  }

  private static void assertSelection(LabeledImages out, byte[] labels, int perClass) {
    List<Integer> indices = sourceIndices(out);
    assertEquals(firstOfEachClass(labels, perClass), indices);
    for (int k = 0; k < out.count(); k++) {
      assertEquals(labels[indices.get(k)], out.label(k), "label of output image " + k);
    }
  }

  private static String run(String... args) throws IOException {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int status = MakeSample.run(args, new PrintStream(err, true, StandardCharsets.UTF_8));
    return status + ": " + err.toString(StandardCharsets.UTF_8);
  }

  @Test
  void keepsTheFirstImagesOfEachClassInFileOrderWithTheirLabels() throws IOException {
    Path source = dir.resolve("full");
    Path target = dir.resolve("sample");
    writeSource(source, trainLabels(), testLabels());

    assertEquals("0: ", run(source.toString(), target.toString(), "2", "1"));

    // Read back as compare reads a dataset directory: IdxReader through FashionMnist.
    FashionMnist sample = FashionMnist.fromDirectory(target);
    assertEquals(20, sample.train().count());
    assertEquals(10, sample.test().count());
    assertEquals(FashionMnist.SIDE, sample.train().rows());
    assertEquals(FashionMnist.SIDE, sample.train().cols());
    assertSelection(sample.train(), trainLabels(), 2);
    assertSelection(sample.test(), testLabels(), 1);
    // The rule spelled out for the training set: images 0 and 1 (class 0), then every class-0
    // image after them dropped (2, 3, 4 and 14), the first two cycles' other classes kept.
    assertEquals(
        List.of(0, 1, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 16, 17, 18, 19, 20, 21, 22, 23),
        sourceIndices(sample.train()));
    // The test set's first ten images hold every class once (9 down to 0): they are the sample.
    assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), sourceIndices(sample.test()));
    assertEquals(9, sample.test().label(0));
    assertEquals(0, sample.test().label(9));
    // The files themselves: gzipped IDX with the published names and magic numbers.
    assertArrayEquals(
        new byte[] {0, 0, 8, 3, 0, 0, 0, 20, 0, 0, 0, 28, 0, 0, 0, 28},
        head(Files.newInputStream(target.resolve("train-images-idx3-ubyte.gz")), 16));
    assertArrayEquals(
        new byte[] {0, 0, 8, 1, 0, 0, 0, 10},
        head(Files.newInputStream(target.resolve("t10k-labels-idx1-ubyte.gz")), 8));
  }

  @Test
  void defaultsAre500And100PerClass() throws IOException {
    Path source = dir.resolve("full");
    Path target = dir.resolve("sample");
    writeSource(source, trainLabels(), testLabels());
    String out = run(source.toString(), target.toString());
    assertEquals(
        "2: perClassTrain is 500, but class 0 has only 7 of the 34 images\n"
            + "usage: MakeSample SOURCE_DIR TARGET_DIR [perClassTrain perClassTest]\n",
        out);
    assertTrue(Files.notExists(target), "nothing written");
  }

  /**
   * The test set is selected before the training set is written: a sample made into the shipped
   * sample's directory (as its README does) is not left half replaced.
   */
  @Test
  void aClassTooSmallInTheTestSetWritesNothing() throws IOException {
    Path source = dir.resolve("full");
    Path target = dir.resolve("sample");
    byte[] test = testLabels();
    test[19] = 0; // class 9 appears only once
    writeSource(source, trainLabels(), test);

    assertEquals(
        "2: perClassTest is 2, but class 9 has only 1 of the 20 images\n"
            + "usage: MakeSample SOURCE_DIR TARGET_DIR [perClassTrain perClassTest]\n",
        run(source.toString(), target.toString(), "3", "2"));
    assertTrue(Files.notExists(target), "nothing written");
  }

  @Test
  void badArgumentsAreNamedAndWriteNothing() throws IOException {
    Path source = dir.resolve("full");
    Path target = dir.resolve("sample");
    writeSource(source, trainLabels(), testLabels());
    String usage = "usage: MakeSample SOURCE_DIR TARGET_DIR [perClassTrain perClassTest]\n";
    String s = source.toString();
    String t = target.toString();
    assertEquals("2: " + usage, run(s));
    assertEquals("2: " + usage, run(s, t, "2"));
    assertEquals("2: " + usage, run(s, t, "2", "1", "0"));
    assertEquals(
        "2: perClassTrain must be a positive integer, got 'two'\n" + usage,
        run(s, t, "two", "1"));
    assertEquals(
        "2: perClassTest must be a positive integer, got '0'\n" + usage, run(s, t, "2", "0"));
    assertEquals(
        "2: perClassTest must be a positive integer, got '-1'\n" + usage, run(s, t, "2", "-1"));
    assertTrue(Files.notExists(target), "nothing written");
    // A source that is not a dataset is an IdxFormatException naming the file.
    IdxFormatException e =
        assertThrows(IdxFormatException.class, () -> run(t, s, "1", "1"));
    assertTrue(e.getMessage().startsWith(t + ": not a directory"), e.getMessage());
  }

  /**
   * The shipped sample, byte by byte from its resources: the published names and magic numbers,
   * 5,000 training and 1,000 test images of 28 x 28, 500 and 100 of each class.
   */
  @Test
  void theShippedSampleHasTheDocumentedFilesAndCounts() throws IOException {
    checkShipped("train-images-idx3-ubyte", new byte[] {0, 0, 8, 3}, 5000, 28, 28);
    checkShipped("t10k-images-idx3-ubyte", new byte[] {0, 0, 8, 3}, 1000, 28, 28);
    byte[] train = checkShipped("train-labels-idx1-ubyte", new byte[] {0, 0, 8, 1}, 5000);
    byte[] test = checkShipped("t10k-labels-idx1-ubyte", new byte[] {0, 0, 8, 1}, 1000);
    assertArrayEquals(perClass(500), classCounts(train, 8));
    assertArrayEquals(perClass(100), classCounts(test, 8));
  }

  /**
   * With the full dataset installed (the Debian package the README made it from), the shipped
   * sample is exactly what MakeSample makes from it with the default counts.
   */
  @Test
  void theShippedSampleIsWhatMakeSampleMakesFromTheFullDataset() throws IOException {
    assumeTrue(Files.isDirectory(FashionMnist.DEBIAN_DIRECTORY), "no full dataset installed");
    Path target = dir.resolve("sample");
    assertEquals("0: ", run(FashionMnist.DEBIAN_DIRECTORY.toString(), target.toString()));
    FashionMnist made = FashionMnist.fromDirectory(target);
    FashionMnist shipped = FashionMnist.embeddedSample();
    for (LabeledImages[] pair :
        new LabeledImages[][] {{made.train(), shipped.train()}, {made.test(), shipped.test()}}) {
      assertEquals(pair[1].count(), pair[0].count());
      assertArrayEquals(pair[1].labels(), pair[0].labels());
      assertArrayEquals(pair[1].pixels(), pair[0].pixels());
    }
  }

  private static int[] perClass(int n) {
    int[] counts = new int[FashionMnist.CLASSES];
    Arrays.fill(counts, n);
    return counts;
  }

  private static int[] classCounts(byte[] file, int headerLength) {
    int[] counts = new int[FashionMnist.CLASSES];
    for (int i = headerLength; i < file.length; i++) {
      counts[file[i]]++;
    }
    return counts;
  }

  /** Checks a shipped file's magic number, dimensions and length; returns its bytes. */
  private static byte[] checkShipped(String name, byte[] magic, int... dims) throws IOException {
    String path = FashionMnist.SAMPLE_RESOURCE + name + ".gz";
    byte[] bytes;
    try (InputStream in = MakeSampleTest.class.getResourceAsStream(path)) {
      bytes = new GZIPInputStream(in).readAllBytes();
    }
    assertArrayEquals(magic, Arrays.copyOf(bytes, 4), name);
    long elements = 1;
    for (int d = 0; d < dims.length; d++) {
      int at = 4 + 4 * d;
      int size =
          (bytes[at] & 0xff) << 24
              | (bytes[at + 1] & 0xff) << 16
              | (bytes[at + 2] & 0xff) << 8
              | bytes[at + 3] & 0xff;
      assertEquals(dims[d], size, name + ", dimension " + d);
      elements *= size;
    }
    assertEquals(4 + 4L * dims.length + elements, bytes.length, name);
    return bytes;
  }

  private static byte[] head(InputStream file, int n) throws IOException {
    try (InputStream in = new GZIPInputStream(file)) {
      return in.readNBytes(n);
    }
  }
}
