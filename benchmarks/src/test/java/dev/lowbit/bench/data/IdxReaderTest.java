package dev.lowbit.bench.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reading IDX files, plain or gzip: what they hold, and every malformed file refused with a message
 * that names it.
 */
class IdxReaderTest {

  @TempDir Path dir;

  private static byte[] header(int type, int... dims) {
    byte[] h = new byte[4 + 4 * dims.length];
    h[2] = (byte) type;
    h[3] = (byte) dims.length;
    for (int d = 0; d < dims.length; d++) {
      h[4 + 4 * d] = (byte) (dims[d] >>> 24);
      h[5 + 4 * d] = (byte) (dims[d] >>> 16);
      h[6 + 4 * d] = (byte) (dims[d] >>> 8);
      h[7 + 4 * d] = (byte) dims[d];
    }
    return h;
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] c = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, c, a.length, b.length);
    return c;
  }

  private Path write(String name, byte[] bytes) throws IOException {
    Path file = dir.resolve(name);
    Files.write(file, bytes);
    return file;
  }

  private static String messageOf(Path file) {
    return assertThrows(IdxFormatException.class, () -> IdxReader.read(file)).getMessage();
  }

  @Test
  void readsPlainAndGzipIdentically() throws IOException {
    byte[] data = {1, 2, 3, 4, 5, 6, (byte) 255, 0, 9, 10, 11, 12};
    Path plain = write("plain", concat(header(8, 3, 2, 2), data));
    Path gz = dir.resolve("packed.gz");
    IdxWriter.writeGzip(gz, new int[] {3, 2, 2}, data);

    IdxArray a = IdxReader.read(plain);
    IdxArray b = IdxReader.read(gz);
    assertArrayEquals(new int[] {3, 2, 2}, a.dimensions());
    assertArrayEquals(data, a.data());
    assertArrayEquals(a.dimensions(), b.dimensions());
    assertArrayEquals(a.data(), b.data());
  }

  @Test
  void missingFileIsNamed() {
    Path file = dir.resolve("nope-idx1-ubyte");
    String message = messageOf(file);
    assertTrue(message.contains(file.toString()) && message.contains("not found"), message);
  }

  @Test
  void wrongMagicNumberIsRejected() throws IOException {
    byte[] bytes = concat(header(8, 2), new byte[] {1, 2});
    bytes[0] = 0x42;
    Path file = write("magic", bytes);
    String message = messageOf(file);
    assertTrue(message.startsWith(file.toString()) && message.contains("magic"), message);
  }

  @Test
  void unsupportedTypeIsRejected() throws IOException {
    Path file = write("float-type", concat(header(0x0D, 1), new byte[4]));
    assertTrue(messageOf(file).contains("unsupported data type 0x0d"));
  }

  @Test
  void truncatedDataIsRejected() throws IOException {
    Path file = write("short", concat(header(8, 10, 28, 28), new byte[7839]));
    String message = messageOf(file);
    assertTrue(message.contains("truncated") && message.contains("7840"), message);
  }

  @Test
  void truncatedHeaderIsRejected() throws IOException {
    byte[] bytes = Arrays.copyOf(header(8, 10, 28, 28), 9);
    String message = messageOf(write("header", bytes));
    assertTrue(message.contains("truncated header"), message);
  }

  @Test
  void tooShortFileIsRejected() throws IOException {
    assertTrue(messageOf(write("empty", new byte[0])).contains("too short"));
  }

  @Test
  void trailingBytesAreRejected() throws IOException {
    Path file = write("long", concat(header(8, 2), new byte[3]));
    assertTrue(messageOf(file).contains("1 unexpected bytes"));
  }

  @Test
  void zeroDimensionIsRejected() throws IOException {
    Path file = write("zero", header(8, 0));
    assertTrue(messageOf(file).contains("dimension 0 has size 0"));
  }

  @Test
  void truncatedGzipIsRejected() throws IOException {
    Path good = dir.resolve("good.gz");
    IdxWriter.writeGzip(good, new int[] {100, 28, 28}, new byte[100 * 784]);
    byte[] whole = Files.readAllBytes(good);
    Path cut = write("cut.gz", Arrays.copyOf(whole, whole.length / 2));
    String message = messageOf(cut);
    // the file named once, no misleading "cannot be read:" wrapping the gzip error
    assertEquals(cut + ": gzip data is truncated (unexpected end of file)", message);
  }

  @Test
  void corruptGzipIsRejected() throws IOException {
    Path good = dir.resolve("good.gz");
    IdxWriter.writeGzip(good, new int[] {4}, new byte[] {1, 2, 3, 4});
    byte[] bytes = Files.readAllBytes(good);
    bytes[bytes.length - 8] ^= (byte) 0xFF; // the CRC-32 in the trailer no longer matches
    Path bad = write("bad.gz", bytes);
    String message = messageOf(bad);
    assertTrue(message.startsWith(bad + ": not valid gzip data: "), message);
    assertEquals(1, message.split(bad.toString(), -1).length - 1, message);
  }

  @Test
  void imageAndLabelCountMismatchNamesTheLabelFile() throws IOException {
    Path images = dir.resolve("images.gz");
    Path labels = dir.resolve("labels.gz");
    IdxWriter.writeGzip(images, new int[] {3, 2, 2}, new byte[12]);
    IdxWriter.writeGzip(labels, new int[] {2}, new byte[2]);
    IdxArray i = IdxReader.read(images);
    IdxArray l = IdxReader.read(labels);
    IdxFormatException e =
        assertThrows(IdxFormatException.class, () -> LabeledImages.of(i, l, 10));
    assertTrue(e.getMessage().startsWith(labels.toString()), e.getMessage());
    assertTrue(e.getMessage().contains("2 labels") && e.getMessage().contains("3 images"));
  }

  @Test
  void labelOutOfRangeIsNamedWithItsIndex() throws IOException {
    Path images = dir.resolve("images.gz");
    Path labels = dir.resolve("labels.gz");
    IdxWriter.writeGzip(images, new int[] {3, 1, 1}, new byte[3]);
    IdxWriter.writeGzip(labels, new int[] {3}, new byte[] {0, 9, 10});
    IdxFormatException e =
        assertThrows(
            IdxFormatException.class,
            () -> LabeledImages.of(IdxReader.read(images), IdxReader.read(labels), 10));
    assertTrue(e.getMessage().contains("label 10 at index 2"), e.getMessage());
  }

  @Test
  void wrongRankForImagesIsRejected() throws IOException {
    Path images = dir.resolve("flat.gz");
    IdxWriter.writeGzip(images, new int[] {3}, new byte[3]);
    IdxArray i = IdxReader.read(images);
    IdxFormatException e =
        assertThrows(IdxFormatException.class, () -> LabeledImages.of(i, i, 10));
    assertTrue(e.getMessage().contains("3 dimensions"), e.getMessage());
  }

  @Test
  void directoryWithMissingFileNamesIt() throws IOException {
    IdxWriter.writeGzip(
        dir.resolve("train-images-idx3-ubyte.gz"), new int[] {1, 1, 1}, new byte[1]);
    IdxFormatException e =
        assertThrows(IdxFormatException.class, () -> FashionMnist.fromDirectory(dir));
    assertTrue(e.getMessage().contains("train-labels-idx1-ubyte"), e.getMessage());
  }

  @Test
  void imagesThatAreNot28x28AreRefusedNamingTheFile() throws IOException {
    for (String name : new String[] {"train", "t10k"}) {
      IdxWriter.writeGzip(
          dir.resolve(name + "-images-idx3-ubyte.gz"), new int[] {2, 28, 28}, new byte[2 * 784]);
      IdxWriter.writeGzip(dir.resolve(name + "-labels-idx1-ubyte.gz"), new int[] {2}, new byte[2]);
    }
    assertEquals(2, FashionMnist.fromDirectory(dir).test().count());
    Path test = dir.resolve("t10k-images-idx3-ubyte.gz");
    IdxWriter.writeGzip(test, new int[] {2, 56, 56}, new byte[2 * 56 * 56]);
    IdxFormatException e =
        assertThrows(IdxFormatException.class, () -> FashionMnist.fromDirectory(dir));
    assertEquals(
        test + ": images are 56x56, but Fashion-MNIST images (which the models take) are 28x28",
        e.getMessage());
  }

  @Test
  void embeddedSampleIsStratifiedAndComplete() throws IOException {
    FashionMnist sample = FashionMnist.embeddedSample();
    assertEquals(5000, sample.train().count());
    assertEquals(1000, sample.test().count());
    assertEquals(28, sample.train().rows());
    int[] perClass = new int[10];
    for (int i = 0; i < sample.train().count(); i++) {
      perClass[sample.train().label(i)]++;
    }
    for (int c = 0; c < 10; c++) {
      assertEquals(500, perClass[c], "class " + c);
    }
    assertTrue(sample.origin().startsWith(
        "embedded Fashion-MNIST sample (5,000 training, 1,000 test images; "), sample.origin());
  }

  @Test
  void aFourByteFileIsATruncatedHeaderNotTooShort() throws IOException {
    Path file = write("four", new byte[] {0, 0, 8, 1});
    assertEquals(
        file + ": truncated header: 1 dimensions need 8 header bytes, the file has 4",
        messageOf(file));
  }

  @Test
  void wrongMagicNumberNamesBothBytesInHex() throws IOException {
    byte[] bytes = concat(header(8, 2), new byte[] {1, 2});
    bytes[0] = 0x01;
    bytes[1] = (byte) 0xa2;
    Path file = write("magic", bytes);
    assertTrue(messageOf(file).contains("first two bytes are 0x01 0xa2,"), messageOf(file));
  }

  @Test
  void fourDimensionsAreTheMost() throws IOException {
    IdxArray a = IdxReader.read(write("rank4", concat(header(8, 1, 1, 1, 2), new byte[] {7, 8})));
    assertArrayEquals(new int[] {1, 1, 1, 2}, a.dimensions());
    assertEquals(1, a.count());
    Path five = write("rank5", concat(header(8, 1, 1, 1, 1, 2), new byte[] {7, 8}));
    assertTrue(messageOf(five).contains("number of dimensions is 5, expected 1 to 4"));
  }

  @Test
  void sizesAreReadAsFourBigEndianBytes() throws IOException {
    int size = 0x00010203; // 66,051: a byte in each of the three low positions
    byte[] data = new byte[size];
    data[size - 1] = 42;
    IdxArray a = IdxReader.read(write("big", concat(header(8, size), data)));
    assertArrayEquals(new int[] {size}, a.dimensions());
    assertEquals(42, a.data()[size - 1]);
  }

  @Test
  void theLargestLoadableSizeIsCheckedAgainstTheDataNotRefusedAsTooLarge() throws IOException {
    // 2^31 - 1 - 8 data bytes and an 8-byte header fill the largest array exactly.
    int largest = Integer.MAX_VALUE - 8;
    Path fits = write("fits", concat(header(8, largest), new byte[] {1}));
    assertTrue(
        messageOf(fits).contains("truncated: the header announces 2147483639 data bytes, only 1"),
        messageOf(fits));
    Path tooLarge = write("large", concat(header(8, largest + 1), new byte[] {1}));
    assertTrue(messageOf(tooLarge).contains("more than 2^31 elements"), messageOf(tooLarge));
  }
}
