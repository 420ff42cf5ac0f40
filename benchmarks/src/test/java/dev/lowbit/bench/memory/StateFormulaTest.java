package dev.lowbit.bench.memory;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The formulas against hand-computed figures (docs/algorithms.md section 3), and the values they
 * take: tensor shapes and moment layouts.
 */
class StateFormulaTest {

  private static final Map<String, OptimizerLayout> PRESETS =
      OptimizerLayout.presets().stream()
          .collect(Collectors.toMap(OptimizerLayout::name, Function.identity()));

  private static long bytes(String optimizer, long... dims) {
    return PRESETS.get(optimizer).bytes(new TensorShape("t", dims));
  }

  @Test
  void matrixOfOneMillionElements() {
    long n = 1024 * 1024;
    assertEquals(8 * n, bytes("adamw32", 1024, 1024));
    // m and v: one byte per element plus one float scale per 256 elements each.
    assertEquals(2 * (n + 4 * n / 256), bytes("adamw8bit", 1024, 1024));
    // m: half a byte plus a scale per 128; v: half a byte plus 1024 row and 1024 column maxima.
    assertEquals(n / 2 + 4 * n / 128 + n / 2 + 4 * 2048, bytes("adamw4bit", 1024, 1024));
    // v: 1024 float32 row and 1024 column statistics only.
    assertEquals(n / 2 + 4 * n / 128 + 4 * 2048, bytes("adamw4bit-factorized", 1024, 1024));
    assertEquals(4 * n, bytes("sgdm32", 1024, 1024));
    assertEquals(n + 4 * n / 256, bytes("sgdm8bit", 1024, 1024));
    assertEquals(n / 2 + 4 * n / 128, bytes("sgdm4bit", 1024, 1024));
  }

  @Test
  void partialBlocksAndOddCountsRoundUp() {
    long n = 4097;
    assertEquals(2 * (n + 4 * 17), bytes("adamw8bit", n));
    // A vector's rank-1 v falls back to block-wise B = 128.
    assertEquals(2 * (2049 + 4 * 33), bytes("adamw4bit", n));
    assertEquals(2049 + 4 * 33, bytes("sgdm4bit", n));
  }

  @Test
  void smallTensorsKeepFloat32State() {
    for (String name : List.of("adamw8bit", "adamw4bit", "adamw4bit-factorized")) {
      assertEquals(8 * 4095, bytes(name, 4095), name);
      assertEquals(8 * 64 * 63, bytes(name, 64, 63), name);
    }
    assertEquals(4 * 4095, bytes("sgdm8bit", 4095));
    // From 4096 elements on, the state is quantized.
    assertEquals(2 * (4096 + 4 * 16), bytes("adamw8bit", 4096));
  }

  @Test
  void higherRankTensors() {
    // Rank-1 keeps one max vector per dimension (the core's row scales are per-step workspace);
    // factorized treats the leading dims as a batch of 3x3 matrices.
    long n = 64L * 32 * 3 * 3;
    assertEquals(
        n / 2 + 4 * n / 128 + n / 2 + 4 * (64 + 32 + 3 + 3), bytes("adamw4bit", 64, 32, 3, 3));
    assertEquals(
        n / 2 + 4 * n / 128 + 4 * 64 * 32 * (3 + 3), bytes("adamw4bit-factorized", 64, 32, 3, 3));
  }

  @Test
  void largeModelsApproachTheIdealBytesPerParameter() throws Exception {
    ModelShapes gpt2 = BuiltInModels.all().get(2);
    double params = gpt2.parameters();
    assertEquals(8.0, PRESETS.get("adamw32").bytes(gpt2) / params, 1e-12);
    assertEquals(2.031, PRESETS.get("adamw8bit").bytes(gpt2) / params, 0.01);
    assertEquals(1.03, PRESETS.get("adamw4bit").bytes(gpt2) / params, 0.02);
    assertEquals(0.53, PRESETS.get("adamw4bit-factorized").bytes(gpt2) / params, 0.02);
  }

  private static long shampoo(String name, long... dims) {
    return ShampooLayout.presets().stream()
        .filter(l -> l.name().equals(name))
        .findFirst()
        .orElseThrow()
        .bytes(new TensorShape("t", dims));
  }

  @Test
  void shampooCutsASideAbove1200IntoNearEqualParts() {
    // 2500 rows: parts of 834, 833 and 833, each a float32 statistic and root (8 n^2 bytes);
    // the 3-wide side, once per row part. Plus float32 AdamW's 8 bytes per element.
    long rowSides = 8L * 834 * 834 + 2 * 8L * 833 * 833;
    assertEquals(8 * 7500 + rowSides + 3 * 8 * 9, shampoo("shampoo32", 2500, 3));
  }

  @Test
  void shampooOfAVectorIsItsAdamWAndSizeOneDimensionsAreDropped() {
    assertEquals(8 * 5000, shampoo("shampoo32", 5000));
    assertEquals(8 * 5000, shampoo("shampoo4bit", 1, 5000));
  }

  @Test
  void shampoo4bitQuantizesASideOf64ButNot63() {
    // Order 64: 4096 elements, 4-bit: 2 (4 n + n s / 2 + 4 n s / 64) with s = 64.
    long side64 = 2 * (4 * 64 + 64 * 64 / 2 + 4 * (64 * 64 / 64));
    assertEquals(8 * 4096 + 2 * side64, shampoo("shampoo4bit", 64, 64));
    assertEquals(8 * 63 * 63 + 2 * 8 * 63 * 63, shampoo("shampoo4bit", 63, 63));
  }

  /**
   * A tensor shape is a value: equal name and sizes make equal shapes (the sizes compared by
   * content, not as the same array), and it prints as {@code name 3x4}.
   */
  @Test
  void tensorShapesCompareBySizesAndPrintAsTheShapeFileWritesThem() {
    TensorShape a = new TensorShape("w", new long[] {3, 4});
    TensorShape b = new TensorShape("w", new long[] {3, 4});
    assertEquals(a, b);
    assertEquals(a.hashCode(), b.hashCode());
    assertNotEquals(a, new TensorShape("w", new long[] {4, 3}));
    assertNotEquals(a, new TensorShape("v", new long[] {3, 4}));
    assertNotEquals(a, "w 3x4");
    // Not required of a hash, but these two differ only in their sizes, which a useful hash
    // mixes in.
    assertNotEquals(a.hashCode(), new TensorShape("w", new long[] {4, 3}).hashCode());
    assertEquals("w 3x4", a.toString());
    assertEquals("bias 768", new TensorShape("bias", new long[] {768}).toString());
  }

  /**
   * Each moment layout names its format in docs/benchmarks.md's notation (B256: blocks of 256).
   */
  @Test
  void momentLayoutsNameTheirFormat() {
    assertEquals("float32", MomentLayout.FLOAT32.toString());
    assertEquals("8-bit B256", MomentLayout.blockwise(8, 256).toString());
    assertEquals("4-bit rank-1", new MomentLayout(MomentLayout.Kind.RANK1, 4, 0).toString());
    assertEquals("factorized", new MomentLayout(MomentLayout.Kind.FACTORIZED, 32, 0).toString());
  }
}
