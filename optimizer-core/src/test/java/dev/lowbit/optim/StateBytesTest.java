package dev.lowbit.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lowbit.kernels.Rank1Moment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * stateBytes against docs/algorithms.md section 3, format selection, and how rank-3 tensors are
 * laid out for the rank-1 and factorized kernels.
 */
class StateBytesTest {

  private static final int R = 1024;
  private static final int C = 1024;

  private static double bytesPerParameter(OptimizerBuilder<?> b) {
    try (Optimizer opt = b.build()) {
      opt.register("w", new long[] {R, C}, new float[R * C]);
      assertEquals(TestStates.segmentBytes(opt, "w"), opt.stateBytes());
      assertEquals(opt.stateBytes(), opt.stateBytes("w"));
      return opt.stateBytes() / (double) (R * C);
    }
  }

  @Test
  void largeTensorsMatchTheSection3Figures() {
    double rank1 = 4.0 * (R + C) / ((double) R * C);
    // Exact for a 1024 x 1024 matrix (the block sizes divide it).
    assertEquals(8.0, bytesPerParameter(Optimizers.adamW32()));
    assertEquals(2 + 2 * 4.0 / 256, bytesPerParameter(Optimizers.adamW8bit()));
    assertEquals(0.5 + 4.0 / 128 + 0.5 + rank1, bytesPerParameter(Optimizers.adamW4bit()));
    assertEquals(0.5 + 4.0 / 128 + rank1, bytesPerParameter(Optimizers.adamW4bitFactorized()));
    assertEquals(4.0, bytesPerParameter(Optimizers.sgdMomentum32()));
    assertEquals(1 + 4.0 / 256, bytesPerParameter(Optimizers.sgdMomentum8bit()));
    assertEquals(0.5 + 4.0 / 128, bytesPerParameter(Optimizers.sgdMomentum4bit()));
    // The table's rounded figures.
    assertEquals(2.031, bytesPerParameter(Optimizers.adamW8bit()), 5e-4);
    assertEquals(1.03, bytesPerParameter(Optimizers.adamW4bit()), 0.01);
    assertEquals(0.53, bytesPerParameter(Optimizers.adamW4bitFactorized()), 0.01);
    assertEquals(1.016, bytesPerParameter(Optimizers.sgdMomentum8bit()), 5e-4);
    assertEquals(0.531, bytesPerParameter(Optimizers.sgdMomentum4bit()), 5e-4);
  }

  @Test
  void smallTensorsAndOverridesChooseTheirFormats() {
    try (Adam opt = Optimizers.adamW4bit().override(".*embedding.*", Precision.FP32)
        .override("tiny", Precision.BLOCKWISE_8BIT).build()) {
      opt.register("bias", new long[] {4095}, new float[4095]);
      opt.register("tiny", new long[] {10}, new float[10]);
      opt.register("token_embedding", new long[] {64, 128}, new float[64 * 128]);
      opt.register("w", new long[] {64, 128}, new float[64 * 128]);
      opt.register("v", new long[] {8192}, new float[8192]);
      assertEquals(List.of(StateFormat.float32(), StateFormat.float32()),
          opt.stateFormats("bias"));
      assertEquals(Precision.BLOCKWISE_8BIT.firstMoment(), opt.stateFormats("tiny").get(0));
      assertEquals(StateFormat.float32(), opt.stateFormats("token_embedding").get(1));
      assertEquals(StateFormat.rank1(dev.lowbit.quant.CodeBook.LINEAR_4),
          opt.stateFormats("w").get(1));
      // 1-D v falls back to B128 Linear-4.
      assertEquals(StateFormat.blockwise(dev.lowbit.quant.CodeBook.LINEAR_4, 128),
          opt.stateFormats("v").get(1));
      assertEquals(4 * 4095 * 2 + 4 * 10 * 0 + (10 + 4) * 2 + 64 * 128 * 8
          + (4096 + 256) + (4096 + 4 * (64 + 128)) + (4096 + 256) * 2, opt.stateBytes());
    }
  }

  @Test
  void aPredicateOverrideAppliesInOrderWithTheRegexOnes() {
    try (Adam opt = Optimizers.adamW8bit()
        .override(name -> name.endsWith("@gpu1"), Precision.FP32)
        .override("w.*", Precision.FOUR_BIT).build()) {
      opt.register("w@gpu1", new long[] {64, 128}, new float[64 * 128]);
      opt.register("w", new long[] {64, 128}, new float[64 * 128]);
      opt.register("x", new long[] {64, 128}, new float[64 * 128]);
      assertEquals(List.of(StateFormat.float32(), StateFormat.float32()),
          opt.stateFormats("w@gpu1"), "the predicate came first");
      assertEquals(Precision.FOUR_BIT.firstMoment(), opt.stateFormats("w").get(0));
      assertEquals(Precision.BLOCKWISE_8BIT.firstMoment(), opt.stateFormats("x").get(0));
    }
  }

  /**
   * Rank-1 state of a tensor above rank 2 holds codes and one max vector per dimension only: the
   * per-row scales of the kernel's (product of leading dims) x (last dim) view are per-step
   * workspace, so they are neither kept nor counted (before or after a step). For a 3x3 conv
   * kernel that makes 4-bit AdamW cheaper than 8-bit.
   */
  @Test
  void rankAbove2Rank1StateHoldsOnlyCodesAndPerDimensionVectors() {
    for (long[] shape : new long[][] {{64, 64, 3, 3}, {4, 6, 200}, {2, 3, 5, 7, 11}}) {
      long n = 1;
      long dims = 0;
      for (long d : shape) {
        n *= d;
        dims += d;
      }
      // m: DE signed 4, B128; v: rank-1 Linear-4 (half a byte per element + the dim vectors).
      long four = ((n + 1) / 2 + 4 * ((n + 127) / 128)) + ((n + 1) / 2 + 4 * dims);
      // m and v: one byte per element plus a float per block of 256.
      long eight = 2 * (n + 4 * ((n + 255) / 256));
      long fp32 = 8 * n;
      assertEquals(four, adamStateBytes(Optimizers.adamW4bit(), shape), Arrays.toString(shape));
      assertEquals(eight, adamStateBytes(Optimizers.adamW8bit(), shape), Arrays.toString(shape));
      assertEquals(fp32, adamStateBytes(Optimizers.adamW32(), shape), Arrays.toString(shape));
    }
    long[] conv = {64, 64, 3, 3};
    long fourBit = adamStateBytes(Optimizers.adamW4bit(), conv);
    long eightBit = adamStateBytes(Optimizers.adamW8bit(), conv);
    assertTrue(fourBit < eightBit, "4-bit " + fourBit + " vs 8-bit " + eightBit + " bytes");
  }

  /** stateBytes of one registered tensor, checked equal before and after two steps. */
  private static long adamStateBytes(OptimizerBuilder<?> b, long[] shape) {
    int n = (int) Arrays.stream(shape).reduce(1, (x, y) -> x * y);
    try (Optimizer opt = b.minQuantizedSize(0).threads(2).build()) {
      opt.register("w", shape, new float[n]);
      long before = opt.stateBytes();
      assertEquals(TestStates.segmentBytes(opt, "w"), before);
      SplittableRandom rnd = new SplittableRandom(n);
      for (int s = 0; s < 2; s++) {
        opt.step("w", TestStates.gaussian(rnd, n, 0.01));
      }
      assertEquals(before, opt.stateBytes());
      assertEquals(TestStates.segmentBytes(opt, "w"), opt.stateBytes("w"));
      return before;
    }
  }

  /**
   * A rank-3 tensor's rank-1 state keeps one max vector per dimension. After one step from zero
   * state, v = (1 - beta2) g^2 exactly (the float32 optimizer computes the same float formula),
   * so each vector must equal the max of the float32 v over the other dimensions.
   */
  @Test
  void rank3StatisticsAreTheMaxOverTheOtherDimensions() {
    long[] shape = {4, 6, 200};
    int n = 4 * 6 * 200;
    SplittableRandom rnd = new SplittableRandom(14);
    float[] g = TestStates.gaussian(rnd, n, 0.01);
    try (Optimizer q = Optimizers.adamW4bit().build();
        Optimizer ref = Optimizers.adamW32().build()) {
      q.register("t", shape, new float[n]);
      ref.register("t", shape, new float[n]);
      q.step("t", g);
      ref.step("t", g);
      float[] v = TestStates.dequantize(ref, "t", 1);
      Moment m = TestStates.moment(q, "t", 1);
      assertEquals(Rank1Moment.class, m.view.getClass());
      for (int d = 0; d < 3; d++) {
        float[] expected = new float[(int) shape[d]];
        for (int i = 0; i < n; i++) {
          int[] idx = {i / 1200, (i / 200) % 6, i % 200};
          expected[idx[d]] = Math.max(expected[idx[d]], v[i]);
        }
        int dim = d;
        Moment.Part part = m.parts.stream()
            .filter(p -> p.suffix().equals(".scales." + dim)).findFirst().orElseThrow();
        float[] actual = part.segment().toArray(ValueLayout.JAVA_FLOAT);
        org.junit.jupiter.api.Assertions.assertArrayEquals(expected, actual, "dimension " + d);
      }
    }
  }

  /**
   * A rank-3 tensor's factorized v is a batch of matrices over the last two dimensions. After one
   * step from zero state, row statistic (b, i) is (1 - beta2) * mean_j g[b,i,j]^2 and column
   * statistic (b, j) is (1 - beta2) * mean_i g[b,i,j]^2 (recomputed here in double).
   */
  @Test
  void rank3FactorizedStatisticsAreRowAndColumnMeansPerMatrix() {
    int batch = 3;
    int rows = 8;
    int cols = 200;
    int n = batch * rows * cols;
    SplittableRandom rnd = new SplittableRandom(15);
    float[] g = TestStates.gaussian(rnd, n, 0.01);
    try (Optimizer q = Optimizers.adamW4bitFactorized().build()) {
      q.register("t", new long[] {batch, rows, cols}, new float[n]);
      q.step("t", g);
      dev.lowbit.kernels.FactorizedMoment f =
          (dev.lowbit.kernels.FactorizedMoment) TestStates.moment(q, "t", 1).view;
      assertEquals(batch, f.batch());
      assertEquals(rows, f.rows());
      assertEquals(cols, f.cols());
      double oneMinusBeta2 = 1 - (double) 0.999f;
      for (int b = 0; b < batch; b++) {
        for (int i = 0; i < rows; i++) {
          double mean = 0;
          for (int j = 0; j < cols; j++) {
            double x = g[(b * rows + i) * cols + j];
            mean += x * x / cols;
          }
          float actual = f.rowStats().getAtIndex(ValueLayout.JAVA_FLOAT, (long) b * rows + i);
          assertEquals(oneMinusBeta2 * mean, actual, 1e-5 * oneMinusBeta2 * mean, "row " + i);
        }
        for (int j = 0; j < cols; j++) {
          double mean = 0;
          for (int i = 0; i < rows; i++) {
            double x = g[(b * rows + i) * cols + j];
            mean += x * x / rows;
          }
          float actual = f.colStats().getAtIndex(ValueLayout.JAVA_FLOAT, (long) b * cols + j);
          assertEquals(oneMinusBeta2 * mean, actual, 1e-5 * oneMinusBeta2 * mean, "col " + j);
        }
      }
    }
  }
}
