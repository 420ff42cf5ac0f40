package dev.lowbit.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Every built-in table against the reference vectors of the project's specification
 * ({@code docs/algorithms.md}), copied into the test resources so a clean clone is
 * self-contained.
 */
class CodeBookReferenceTest {

  @ParameterizedTest(name = "{0} == {1}")
  @CsvSource({
    "dynamic-signed-8, dynamic_signed_8.txt",
    "dynamic-unsigned-8, dynamic_unsigned_8.txt",
    "de-signed-4, de_signed_4.txt",
    "de-unsigned-4, de_unsigned_4.txt",
    "linear-square-signed-4, linear2_signed_4.txt"
  })
  void tableMatchesReferenceVector(String book, String file) throws IOException {
    assertArrayEquals(readReference(file), CodeBook.byName(book).values(), 0f);
  }

  /**
   * The public generator itself (not only the built-in constants it made at class load) builds the
   * reference tables from the parameters algorithms.md section 1 gives: 7 decades for 8 bits, 3
   * for the 4-bit DE books.
   */
  @ParameterizedTest(name = "dynamic(signed={0}, levels={1}, bits={2}) == {3}")
  @CsvSource({
    "true, 7, 8, dynamic_signed_8.txt",
    "false, 7, 8, dynamic_unsigned_8.txt",
    "true, 3, 4, de_signed_4.txt",
    "false, 3, 4, de_unsigned_4.txt"
  })
  void dynamicGeneratorBuildsTheReferenceTable(boolean signed, int levels, int bits, String file)
      throws IOException {
    CodeBook book = CodeBook.dynamic("user-" + file, signed, levels, bits);
    assertArrayEquals(readReference(file), book.values(), 0f);
    assertEquals(bits, book.bits());
    assertEquals(signed, book.signed());
    assertEquals("user-" + file, book.name());
  }

  @Test
  void de0IsDeUnsignedWithoutItsZero() throws IOException {
    assertArrayEquals(
        referenceWithoutLeadingZero("de_unsigned_4.txt"), CodeBook.DE0_UNSIGNED_4.values(), 0f);
    assertEquals(0.00325f, CodeBook.DE0_UNSIGNED_4.value(0));
    assertFalse(CodeBook.DE0_UNSIGNED_4.containsZero());
  }

  @Test
  void de1IsDeSignedWithMinusOneForItsMostNegativeEntry() throws IOException {
    float[] expected = readReference("de_signed_4.txt");
    assertEquals(-0.8875f, expected[0]);
    expected[0] = -1f;
    assertArrayEquals(expected, CodeBook.DE1_SIGNED_4.values(), 0f);
    assertEquals(4, CodeBook.DE1_SIGNED_4.bits());
    assertTrue(CodeBook.DE1_SIGNED_4.containsZero());
    assertSame(CodeBook.DE1_SIGNED_4, CodeBook.byName("de1-signed-4"));
  }

  @Test
  void dynamic0IsDynamicUnsignedWithoutItsZero() throws IOException {
    assertArrayEquals(
        referenceWithoutLeadingZero("dynamic_unsigned_8.txt"),
        CodeBook.DYNAMIC0_UNSIGNED_8.values(),
        0f);
    assertEquals(3.25e-7f, CodeBook.DYNAMIC0_UNSIGNED_8.value(0), 1e-12f);
    assertEquals(8, CodeBook.DYNAMIC0_UNSIGNED_8.bits());
    assertFalse(CodeBook.DYNAMIC0_UNSIGNED_8.containsZero());
  }

  @Test
  void linearFourHasNoZero() {
    CodeBook book = CodeBook.LINEAR_4;
    assertEquals(16, book.size());
    for (int i = 0; i < 16; i++) {
      assertEquals((i + 1) / 16f, book.value(i));
    }
    assertFalse(book.containsZero());
  }

  /**
   * The rounding boundaries: midpoint(k) is the exact midpoint of entries k and k + 1 rounded to
   * float; for linear-4 ((k + 1) / 16) that is (k + 1.5) / 16, exactly representable.
   */
  @Test
  void midpointsAreTheExactMidpointsOfNeighbouringEntries() {
    CodeBook book = CodeBook.LINEAR_4;
    float[] all = book.midpoints();
    assertEquals(15, all.length);
    for (int k = 0; k < 15; k++) {
      assertEquals((k + 1.5f) / 16f, book.midpoint(k));
      assertEquals(book.midpoint(k), all[k]);
    }
    all[0] = 99f; // a copy
    assertEquals(1.5f / 16f, book.midpoint(0));
    assertEquals("linear-4 (4-bit, 16 values)", book.toString());
  }

  @Test
  void linearEightBitBooks() {
    assertEquals(255, CodeBook.LINEAR_SIGNED_8.size());
    assertEquals(-1f, CodeBook.LINEAR_SIGNED_8.value(0));
    assertEquals(0f, CodeBook.LINEAR_SIGNED_8.value(127));
    assertEquals(1f, CodeBook.LINEAR_SIGNED_8.value(254));
    assertEquals(256, CodeBook.LINEAR_UNSIGNED_8.size());
    assertEquals(0f, CodeBook.LINEAR_UNSIGNED_8.value(0));
    assertEquals(1f, CodeBook.LINEAR_UNSIGNED_8.value(255));
  }

  @Test
  void dynamicSignedHasPlusOneButNoMinusOne() {
    CodeBook book = CodeBook.DYNAMIC_SIGNED_8;
    assertEquals(256, book.size());
    assertEquals(1f, book.value(255));
    assertTrue(book.value(0) > -1f);
    assertEquals(5.5e-7f, book.value(128), 1e-12f);
    assertTrue(book.containsZero());
  }

  @Test
  void everyBuiltInIsFoundByName() {
    for (CodeBook book : CodeBook.builtIns()) {
      assertEquals(book, CodeBook.byName(book.name()));
    }
  }

  /** A reference table whose first entry must be 0, without that entry. */
  private static float[] referenceWithoutLeadingZero(String file) throws IOException {
    float[] table = readReference(file);
    assertEquals(0f, table[0], file + " starts with 0");
    float[] rest = new float[table.length - 1];
    System.arraycopy(table, 1, rest, 0, rest.length);
    return rest;
  }

  static float[] readReference(String file) throws IOException {
    InputStream in = CodeBookReferenceTest.class.getResourceAsStream("codebooks/" + file);
    assertNotNull(in, "missing reference vector " + file);
    List<Float> values = new ArrayList<>();
    try (BufferedReader reader =
        new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      String line;
      while ((line = reader.readLine()) != null) {
        if (!line.isBlank()) {
          values.add(Float.parseFloat(line.trim()));
        }
      }
    }
    float[] out = new float[values.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = values.get(i);
    }
    return out;
  }
}
