package dev.lowbit.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

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
 * and the elementwise min across dimensions". After one step from zero state v is exactly
 * (1 - beta2) g^2 (1 - beta2 computed once in float), so the stored codes and max vectors must be
 * what quant-blockwise's Rank1Quantizer (the reference for that rule, pinned by its LayoutTest)
 * makes of it.
 */
class RankOneStateTest {

  @TempDir Path dir;

  @Test
  void aMatrixStoresTheReferenceRankOneQuantizationOfV() throws IOException {
    checkOneStep(new long[] {12, 5});
  }

  @Test
  void aRankThreeTensorStoresTheReferenceRankOneQuantizationOfV() throws IOException {
    checkOneStep(new long[] {3, 4, 5});
  }

  private void checkOneStep(long[] shape) throws IOException {
    int n = 1;
    for (long d : shape) {
      n *= (int) d;
    }
    SplittableRandom rnd = new SplittableRandom(21);
    float[] g = new float[n];
    for (int i = 0; i < n; i++) {
      g[i] = (float) (rnd.nextGaussian() * Math.exp(rnd.nextGaussian()));
    }
    float c = 1f - 0.999f;
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = c * (g[i] * g[i]);
    }
    byte[] codes = new byte[(int) PackedCodes.byteSize(4, n)];
    int scaleCount = 0;
    for (long d : shape) {
      scaleCount += (int) d;
    }
    float[] scales = new float[scaleCount];
    Rank1Quantizer.quantize(CodeBook.LINEAR_4, shape, MemorySegment.ofArray(v),
        MemorySegment.ofArray(codes), MemorySegment.ofArray(scales), Rounding.NEAREST);

    Path file = dir.resolve("v.safetensors");
    try (Optimizer opt = Optimizers.adamW4bit().minQuantizedSize(0).build()) {
      opt.register("w", shape, new float[n]);
      opt.step("w", g);
      opt.save(file);
    }
    try (CheckpointReader in = CheckpointReader.open(file)) {
      MemorySegment stored = MemorySegment.ofArray(new byte[codes.length]);
      in.readUint8("w/v.codes", new long[] {codes.length}, stored);
      int at = 0;
      for (int d = 0; d < shape.length; d++) {
        MemorySegment dim = MemorySegment.ofArray(new float[(int) shape[d]]);
        in.readFloat32("w/v.scales." + d, new long[] {shape[d]}, dim);
        float[] expected = java.util.Arrays.copyOfRange(scales, at, at + (int) shape[d]);
        assertArrayEquals(expected, dim.toArray(ValueLayout.JAVA_FLOAT), 0f, "max vector " + d);
        at += (int) shape[d];
      }
      assertArrayEquals(codes, stored.toArray(ValueLayout.JAVA_BYTE), "codes");
    }
  }
}
