package dev.lowbit.quant;

/**
 * The scale of every element, derived straight from the definitions in docs/algorithms.md section 2
 * with plain int loops: an independent check of the quantizers' scale rules on small tensors.
 */
final class ReferenceScales {
  private ReferenceScales() {}

  static float[] of(Normalization normalization, long[] shape, float[] x) {
    Normalization effective = normalization.resolve(shape);
    float[] scale = new float[x.length];
    switch (effective) {
      case Normalization.BlockWise b -> {
        int size = b.blockSize();
        for (int start = 0; start < x.length; start += size) {
          int end = Math.min(x.length, start + size);
          float max = 0f;
          for (int i = start; i < end; i++) {
            max = Math.max(max, Math.abs(x[i]));
          }
          for (int i = start; i < end; i++) {
            scale[i] = max;
          }
        }
      }
      case Normalization.PerTensor p -> {
        float max = 0f;
        for (float v : x) {
          max = Math.max(max, Math.abs(v));
        }
        java.util.Arrays.fill(scale, max);
      }
      case Normalization.Rank1 r -> {
        int rank = shape.length;
        float[][] dimMax = new float[rank][];
        for (int d = 0; d < rank; d++) {
          dimMax[d] = new float[(int) shape[d]];
        }
        for (int i = 0; i < x.length; i++) {
          int[] index = unflatten(i, shape);
          for (int d = 0; d < rank; d++) {
            dimMax[d][index[d]] = Math.max(dimMax[d][index[d]], Math.abs(x[i]));
          }
        }
        for (int i = 0; i < x.length; i++) {
          int[] index = unflatten(i, shape);
          float s = Float.POSITIVE_INFINITY;
          for (int d = 0; d < rank; d++) {
            s = Math.min(s, dimMax[d][index[d]]);
          }
          scale[i] = s;
        }
      }
    }
    return scale;
  }

  static int[] unflatten(int flat, long[] shape) {
    int[] index = new int[shape.length];
    for (int d = shape.length - 1; d >= 0; d--) {
      index[d] = (int) (flat % shape[d]);
      flat /= (int) shape[d];
    }
    return index;
  }

  /**
   * Half the gap between the two entries that bracket {@code n}; outside the table, the distance
   * to its nearest end (the error nearest rounding allows, in normalized units).
   */
  static double halfLocalGap(CodeBook book, double n) {
    float[] v = book.values();
    if (n <= v[0]) {
      return v[0] - n;
    }
    if (n >= v[v.length - 1]) {
      return n - v[v.length - 1];
    }
    int k = 0;
    while (v[k + 1] < n) {
      k++;
    }
    return (v[k + 1] - (double) v[k]) / 2;
  }
}
