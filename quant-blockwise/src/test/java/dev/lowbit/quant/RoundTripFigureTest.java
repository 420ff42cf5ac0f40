package dev.lowbit.quant;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The round-trip figures of docs/algorithms.md section 6 ("8-bit Optimizers via Block-wise
 * Quantization"), on 1024 x 1024 values at every allowed block size. Relative error is
 * {@code |x̂ - x| / (|x| + 1e-8)}, the reference library's definition.
 */
class RoundTripFigureTest {
  private static final int N = 1024 * 1024;

  @ParameterizedTest(name = "B{0}")
  @ValueSource(ints = {32, 64, 128, 256, 512, 1024, 2048, 4096})
  void dynamicSignedOnStandardNormal(int blockSize) {
    SplittableRandom random = new SplittableRandom(42 + blockSize);
    float[] x = new float[N];
    for (int i = 0; i < N; i++) {
      x[i] = (float) random.nextGaussian();
    }
    double[] err = roundTrip(CodeBook.DYNAMIC_SIGNED_8, blockSize, x);
    // Paper figure: mean abs error < 0.011, mean relative error < 0.018.
    assertTrue(err[0] < 0.011, "mean abs error " + err[0]);
    assertTrue(err[1] < 0.018, "mean relative error " + err[1]);
  }

  @ParameterizedTest(name = "B{0}")
  @ValueSource(ints = {32, 64, 128, 256, 512, 1024, 2048, 4096})
  void dynamicUnsignedOnUniform(int blockSize) {
    SplittableRandom random = new SplittableRandom(7 + blockSize);
    float[] x = new float[N];
    for (int i = 0; i < N; i++) {
      x[i] = (float) random.nextDouble();
    }
    double[] err = roundTrip(CodeBook.DYNAMIC_UNSIGNED_8, blockSize, x);
    // Paper figure: mean abs error < 0.0023, mean relative error < 0.012.
    assertTrue(err[0] < 0.0023, "mean abs error " + err[0]);
    assertTrue(err[1] < 0.012, "mean relative error " + err[1]);
  }

  /** Returns {mean abs error, mean relative error}. */
  static double[] roundTrip(CodeBook book, int blockSize, float[] x) {
    QuantizedTensor q =
        QuantizedTensor.allocate(book, Normalization.blockWise(blockSize), x.length);
    q.quantize(x);
    float[] y = q.dequantize();
    double abs = 0;
    double rel = 0;
    for (int i = 0; i < x.length; i++) {
      double e = Math.abs((double) y[i] - x[i]);
      abs += e;
      rel += e / (Math.abs(x[i]) + 1e-8);
    }
    System.out.printf(
        "round trip %s B%d: mean abs %.6f, mean rel %.6f%n",
        book.name(), blockSize, abs / x.length, rel / x.length);
    return new double[] {abs / x.length, rel / x.length};
  }
}
