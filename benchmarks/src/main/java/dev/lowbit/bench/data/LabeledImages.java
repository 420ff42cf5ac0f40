package dev.lowbit.bench.data;

/**
 * Grey-scale images with one class label each, as read from a pair of IDX files.
 *
 * @param count number of images
 * @param rows pixel rows per image
 * @param cols pixel columns per image
 * @param pixels {@code count * rows * cols} unsigned bytes, image after image, row-major
 * @param labels {@code count} class labels in {@code [0, classes)}
 */
public record LabeledImages(int count, int rows, int cols, byte[] pixels, byte[] labels) {

  /**
   * Pairs an image file with its label file, checking that they belong together.
   *
   * @param images the images: a 3-dimensional IDX array (count, rows, cols)
   * @param labels the labels: a 1-dimensional IDX array (count)
   * @param classes the number of classes; every label must be below it
   * @return the checked pair
   * @throws IdxFormatException naming the file at fault if the shapes do not fit, the counts
   *     differ, or a label is out of range
   */
  public static LabeledImages of(IdxArray images, IdxArray labels, int classes)
      throws IdxFormatException {
    int[] imageDims = images.dimensions();
    int[] labelDims = labels.dimensions();
    if (imageDims.length != 3) {
      throw new IdxFormatException(
          images.source(),
          "an image file must have 3 dimensions (count, rows, cols), this one has "
              + imageDims.length);
    }
    if (labelDims.length != 1) {
      throw new IdxFormatException(
          labels.source(),
          "a label file must have 1 dimension (count), this one has " + labelDims.length);
    }
    if (imageDims[0] != labelDims[0]) {
      throw new IdxFormatException(
          labels.source(),
          "holds "
              + labelDims[0]
              + " labels but "
              + images.source()
              + " holds "
              + imageDims[0]
              + " images");
    }
    byte[] labelBytes = labels.data();
    for (int i = 0; i < labelBytes.length; i++) {
      int label = labelBytes[i] & 0xff;
      if (label >= classes) {
        throw new IdxFormatException(
            labels.source(),
            "label " + label + " at index " + i + " is out of range [0, " + classes + ")");
      }
    }
    return new LabeledImages(imageDims[0], imageDims[1], imageDims[2], images.data(), labelBytes);
  }

  /**
   * The label of one image.
   *
   * @param index the image's index
   * @return its class
   */
  public int label(int index) {
    return labels[index] & 0xff;
  }

  /**
   * Pixels per image.
   *
   * @return {@code rows * cols}
   */
  public int pixelsPerImage() {
    return rows * cols;
  }

  /**
   * The first {@code n} images (all of them when {@code n >= count}).
   *
   * @param n how many to keep
   * @return the prefix; the arrays are copies
   */
  public LabeledImages first(int n) {
    if (n >= count) {
      return this;
    }
    byte[] p = java.util.Arrays.copyOf(pixels, n * pixelsPerImage());
    byte[] l = java.util.Arrays.copyOf(labels, n);
    return new LabeledImages(n, rows, cols, p, l);
  }
}
