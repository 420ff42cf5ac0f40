package dev.lowbit.bench.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The default list, and the note a run too short for Shampoo gets. */
class OptimizerCatalogTest {

  @Test
  void theDefaultRunHasEveryOptimizerButTheAblations() {
    OptimizerCatalog catalog = OptimizerCatalog.standard();
    assertEquals(
        List.of("djl-adam", "adamw32", "adamw8bit", "adamw4bit", "adamw4bit-factorized",
            "sgdm8bit", "shampoo32", "shampoo4bit"),
        catalog.defaultNames());
    assertTrue(catalog.names().containsAll(List.of("adamw4bit-m", "adamw4bit-v")));
  }

  @Test
  void shampooInARunShorterThanItsFirstRootsIsNoted() {
    Candidate shampoo = OptimizerCatalog.standard().select(List.of("shampoo4bit")).getFirst();
    assertEquals(LowBitCandidates.SHAMPOO_ROOT_INTERVAL, shampoo.firstOwnStep());
    String note = shampoo.shortRunNote(78, 78);
    assertTrue(note.startsWith("shampoo4bit: "), note);
    assertTrue(note.contains("before step 500"), note);
    assertTrue(note.contains("this run has 78 steps"), note);
    assertTrue(note.contains("--epochs 8 "), note);
    assertNull(shampoo.shortRunNote(500, 78));
    Candidate adamw = OptimizerCatalog.standard().select(List.of("adamw4bit")).getFirst();
    assertNull(adamw.shortRunNote(1, 1));
  }
}
