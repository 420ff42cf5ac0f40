package dev.lowbit.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.lowbit.quant.CodeBook;
import dev.lowbit.quant.PackedCodes;
import dev.lowbit.quant.Rank1Quantizer;
import dev.lowbit.quant.Rounding;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The 4-bit second moment (Rank-1 / Linear-4) as docs/algorithms.md section 2 defines it, for a
 * matrix and for a tensor of rank above 2: "take the max over all other dimensions per dimension
 * and the elementwise min across dimensions". Step by step, the stored codes and max vectors
 * must be what quant-blockwise's Rank1Quantizer (the reference for that rule, pinned by its
 * LayoutTest) makes of the new v computed from the decoded old one.
 */
class RankOneStateTest {

  @TempDir Path dir;

  @Test
  void aMatrixStoresTheReferenceRankOneQuantizationOfV() throws IOException {
    checkThreeSteps(new long[] {12, 5});
  }

  @Test
  void aRankThreeTensorStoresTheReferenceRankOneQuantizationOfV() throws IOException {
    checkThreeSteps(new long[] {3, 4, 5});
  }

  /**
   * A gradient of zero after the first step makes v decay (times beta2), so every max vector
   * shrinks: the stored ones must be the new, smaller maxima, not the larger ones of the step
   * before (above rank 2 the max vectors are rebuilt from the kernel's row scales each step).
   */
  @Test
  void aRankThreeTensorWhoseVDecaysStoresTheSmallerMaxVectors() throws IOException {
    checkSteps(new long[] {3, 4, 5}, new double[] {1, 0, 0});
  }

  /**
   * Rank-1 state of a tensor whose last dimension is 0 has rows but no columns: it registers
   * (one max vector per dimension, the last one empty, and no codes), steps and resumes.
   */
  @Test
  void aRankOneStateWithAnEmptyLastDimensionStepsAndResumes() throws IOException {
    Path file = dir.resolve("empty.safetensors");
    long[][] shapes = {{3, 0}, {2, 3, 0}};
    try (Optimizer opt = Optimizers.adamW4bit().minQuantizedSize(0).build()) {
      for (int i = 0; i < shapes.length; i++) {
        opt.register("w" + i, shapes[i], new float[0]);
        assertEquals(StateFormat.rank1(CodeBook.LINEAR_4),
            ((Adam) opt).stateFormats("w" + i).get(1));
        opt.step("w" + i, new float[0]);
      }
      // m is block-wise with no blocks; v has no codes, only one max float per index of each
      // dimension (none for the empty last one).
      assertEquals(3 * 4, opt.stateBytes("w0"));
      assertEquals((2 + 3) * 4, opt.stateBytes("w1"));
      opt.save(file);
    }
    try (Optimizer opt = Optimizers.adamW4bit().minQuantizedSize(0).build()) {
      for (int i = 0; i < shapes.length; i++) {
        opt.register("w" + i, shapes[i], new float[0]);
      }
      opt.load(file);
      assertEquals(1, opt.stepCount("w0"));
      assertEquals(1, opt.stepCount("w1"));
    }
  }

  private void checkThreeSteps(long[] shape) throws IOException {
    checkSteps(shape, new double[] {1, 1, 1});
  }

  /**
   * Steps with gradients of the given scales: after step 1 v is (1 - beta2) g^2; after each later
   * step it is beta2 * decode(stored) + (1 - beta2) g^2 (the kernels' float operations), and the
   * stored codes and max vectors must be the reference quantization of that, so a step encodes
   * with the scales the next one decodes with.
   */
  private void checkSteps(long[] shape, double[] gradientScales) throws IOException {
    int n = 1;
    int scaleCount = 0;
    for (long d : shape) {
      n *= (int) d;
      scaleCount += (int) d;
    }
    SplittableRandom rnd = new SplittableRandom(21);
    float beta2 = 0.999f;
    float c = 1f - beta2;
    float[] v = new float[n];
    byte[] codes = new byte[(int) PackedCodes.byteSize(4, n)];
    float[] scales = new float[scaleCount];
    Path file = dir.resolve("v.safetensors");
    try (Optimizer opt = Optimizers.adamW4bit().minQuantizedSize(0).build()) {
      opt.register("w", shape, new float[n]);
      for (int step = 1; step <= gradientScales.length; step++) {
        float[] g = new float[n];
        for (int i = 0; i < n; i++) {
          g[i] = (float) (gradientScales[step - 1] * rnd.nextGaussian()
              * Math.exp(rnd.nextGaussian()));
        }
        if (step > 1) {
          Rank1Quantizer.dequantize(CodeBook.LINEAR_4, shape, MemorySegment.ofArray(codes),
              MemorySegment.ofArray(scales), MemorySegment.ofArray(v));
        }
        for (int i = 0; i < n; i++) {
          v[i] = beta2 * v[i] + c * (g[i] * g[i]);
        }
        Rank1Quantizer.quantize(CodeBook.LINEAR_4, shape, MemorySegment.ofArray(v),
            MemorySegment.ofArray(codes), MemorySegment.ofArray(scales), Rounding.NEAREST);
        opt.step("w", g);
        opt.save(file);
        assertStored(file, shape, codes, scales, "step " + step);
      }
    }
  }

  private static void assertStored(
      Path file, long[] shape, byte[] codes, float[] scales, String when) throws IOException {
    try (CheckpointReader in = CheckpointReader.open(file)) {
      MemorySegment stored = MemorySegment.ofArray(new byte[codes.length]);
      in.readUint8("w/v.codes", new long[] {codes.length}, stored);
      int at = 0;
      for (int d = 0; d < shape.length; d++) {
        MemorySegment dim = MemorySegment.ofArray(new float[(int) shape[d]]);
        in.readFloat32("w/v.scales." + d, new long[] {shape[d]}, dim);
        float[] expected = java.util.Arrays.copyOfRange(scales, at, at + (int) shape[d]);
        assertArrayEquals(expected, dim.toArray(ValueLayout.JAVA_FLOAT), 0f,
            when + ", max vector " + d);
        at += (int) shape[d];
      }
      assertArrayEquals(codes, stored.toArray(ValueLayout.JAVA_BYTE), when + ", codes");
    }
  }
}
