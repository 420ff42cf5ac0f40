package dev.lowbit.quant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Code books built from user arguments refuse what breaks their documented rules, by name. */
class CodeBookValidationTest {

  @Test
  void dynamicChecksTheBitWidthFirst() {
    for (int bits : new int[] {0, 1, 2, 3, 5, 7, 9, 16, 31, 32, 33, -1, Integer.MIN_VALUE}) {
      for (int levels : new int[] {1, 0, 3}) {
        assertRefused("bits must be 4 or 8, got " + bits,
            () -> CodeBook.dynamic("x", true, levels, bits));
      }
    }
    assertRefused("exponentLevels must be in 1..3, got 4", () -> CodeBook.dynamic("x", true, 4, 4));
    assertRefused(
        "exponentLevels must be in 1..7, got 0", () -> CodeBook.dynamic("x", false, 0, 8));
    for (int levels = 1; levels <= 7; levels++) {
      CodeBook.dynamic("x", true, levels, 8);
      CodeBook.dynamic("x", false, levels, 8);
    }
  }

  @Test
  void ofRefusesEntriesThatWouldNotEncodeToThemselves() {
    // Adjacent floats: the midpoint of 0.50000006 and 0.5000001 rounds (to even) onto 0.5000001.
    float[] adjacent = {0.5f, Math.nextUp(0.5f), Math.nextUp(Math.nextUp(0.5f)), 1f};
    assertRefused("value 0.5000001 at index 2 is too close to value 0.50000006 at index 1",
        () -> CodeBook.of("adjacent", 4, adjacent));
    // -MIN_VALUE next to 0: their midpoint rounds to -0.0, so +0 encoded to the negative entry.
    assertRefused("value 0.0 at index 1 is too close",
        () -> CodeBook.of("subnormal", 4, new float[] {-Float.MIN_VALUE, 0f, 1f}));
    // Two floats apart is fine: the midpoint is the float between them.
    float a = 0.5f;
    float b = Math.nextUp(Math.nextUp(a));
    CodeBook ok = CodeBook.of("two-apart", 4, new float[] {a, b, 1f});
    assertEquals(0, ok.encode(a));
    assertEquals(1, ok.encode(b));
  }

  @Test
  void ofRefusesASignedBookWhoseZerosOrSmallValuesCouldChangeSign() {
    assertRefused("a signed book must contain 0",
        () -> CodeBook.of("no-zero", 4, new float[] {-0.5f, 1f}));
    assertRefused("a signed book must contain 0",
        () -> CodeBook.of("symmetric", 4, new float[] {-1f, -0.5f, 0.5f, 1f}));
    assertRefused("value 1.4E-45 at index 2 is too close to 0",
        () -> CodeBook.of("tiny", 4, new float[] {-1f, 0f, Float.MIN_VALUE, 1f}));
    assertRefused("value -0.0 at index 1",
        () -> CodeBook.of("negative-zero", 4, new float[] {-1f, -0f, 1f}));
    assertRefused("value -0.0 at index 0",
        () -> CodeBook.of("negative-zero", 4, new float[] {-0f, 1f}));
    CodeBook signed = CodeBook.of("ok", 4, new float[] {-0.5f, 0f, 1f});
    assertEquals(1, signed.encode(0f));
    assertEquals(1, signed.encode(-0f));
    assertEquals(1, signed.encode(0.1f));
    assertEquals(1, signed.encode(-0.1f));
    // An unsigned book needs no 0, and 0 next to a subnormal is allowed there: nothing changes
    // sign.
    CodeBook unsigned = CodeBook.of("unsigned", 4, new float[] {0f, Float.MIN_VALUE, 1f});
    assertEquals(0, unsigned.encode(-0f));
    assertEquals(1, unsigned.encode(Float.MIN_VALUE));
  }

  @Test
  void everyEntryOfEveryBuiltInBookEncodesToItselfAndSignedOnesHoldZero() {
    for (CodeBook book : CodeBook.builtIns()) {
      for (int k = 0; k < book.size(); k++) {
        assertEquals(k, book.encode(book.value(k)), book.name() + " entry " + k);
      }
      if (book.signed()) {
        assertTrue(book.containsZero(), book.name());
        int zero = book.encode(0f);
        assertEquals(0f, book.value(zero), book.name());
        assertEquals(zero, book.encode(-0f), book.name());
      }
      CodeBook.of(book.name(), book.bits(), book.values());
    }
  }

  @Test
  void ofNamesANullTable() {
    NullPointerException e =
        assertThrows(NullPointerException.class, () -> CodeBook.of("x", 8, null));
    assertEquals("values", e.getMessage());
  }

  static void assertRefused(String fragment, Executable call) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
    assertTrue(e.getMessage().contains(fragment), "'" + fragment + "' not in: " + e.getMessage());
  }
}
