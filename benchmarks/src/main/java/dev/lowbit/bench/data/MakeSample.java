package dev.lowbit.bench.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Makes the embedded Fashion-MNIST sample from a full copy: the first {@code perClassTrain}
 * training and {@code perClassTest} test images of each class, kept in file order (stratified,
 * so every class is equally represented), written as gzipped IDX files.
 *
 * <p>Usage: {@code java -cp lowbit.jar dev.lowbit.bench.data.MakeSample SOURCE_DIR TARGET_DIR
 * [perClassTrain perClassTest]}; the defaults are 500 and 100.
 */
public final class MakeSample {

  private MakeSample() {}

  /**
   * Writes the sample.
   *
   * @param args source directory, target directory, and optionally the two per-class counts
   * @throws IOException if a file cannot be read or written
   */
  public static void main(String[] args) throws IOException {
    if (args.length != 2 && args.length != 4) {
      System.err.println("usage: MakeSample SOURCE_DIR TARGET_DIR [perClassTrain perClassTest]");
      System.exit(2);
    }
    Path source = Path.of(args[0]);
    Path target = Path.of(args[1]);
    int perClassTrain = args.length == 4 ? Integer.parseInt(args[2]) : 500;
    int perClassTest = args.length == 4 ? Integer.parseInt(args[3]) : 100;
    FashionMnist full = FashionMnist.fromDirectory(source);
    Files.createDirectories(target);
    write(stratified(full.train(), perClassTrain), target, FashionMnist.TRAIN_IMAGES,
        FashionMnist.TRAIN_LABELS);
    write(stratified(full.test(), perClassTest), target, FashionMnist.TEST_IMAGES,
        FashionMnist.TEST_LABELS);
  }

  /**
   * The first {@code perClass} images of each class, in their original order.
   *
   * @param all the images to choose from
   * @param perClass how many of each class to keep
   * @return the selection
   * @throws IllegalArgumentException if some class has fewer than {@code perClass} images
   */
  static LabeledImages stratified(LabeledImages all, int perClass) {
    int[] taken = new int[FashionMnist.CLASSES];
    int n = perClass * FashionMnist.CLASSES;
    int size = all.pixelsPerImage();
    byte[] pixels = new byte[n * size];
    byte[] labels = new byte[n];
    int kept = 0;
    for (int i = 0; i < all.count() && kept < n; i++) {
      int label = all.label(i);
      if (taken[label] < perClass) {
        taken[label]++;
        System.arraycopy(all.pixels(), i * size, pixels, kept * size, size);
        labels[kept++] = (byte) label;
      }
    }
    if (kept < n) {
      throw new IllegalArgumentException("some class has fewer than " + perClass + " images");
    }
    return new LabeledImages(n, all.rows(), all.cols(), pixels, labels);
  }

  private static void write(LabeledImages images, Path dir, String imageName, String labelName)
      throws IOException {
    IdxWriter.writeGzip(
        dir.resolve(imageName + ".gz"),
        new int[] {images.count(), images.rows(), images.cols()},
        images.pixels());
    IdxWriter.writeGzip(dir.resolve(labelName + ".gz"), new int[] {images.count()}, images.labels());
  }
}
