package dev.lowbit.djl;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

/**
 * When an update can reuse a parameter's binding. Binding afresh gives the same result but costs
 * a check per step that writes a copy of the whole tensor back into it (the copy path), so an
 * unchanged tensor must keep its binding; a replaced tensor, or one whose storage was swapped,
 * must not.
 */
class ParameterBindingTest {

  @Test
  void aBindingHoldsItsTensorUntilTheTensorOrItsStorageChanges() {
    try (NDManager m = NDManager.newBaseManager("PyTorch")) {
      NDArray weight = m.create(new float[] {1, 2, 3, 4, 5, 6}, new Shape(2, 3));
      ParameterBinding direct = ParameterBinding.of("w", weight, "'w'");
      assertTrue(direct.direct());
      assertTrue(direct.stillHolds(weight), "the tensor it was made for");
      assertFalse(direct.stillHolds(weight.duplicate()), "another tensor");

      NDArray view = m.create(new float[] {1, 2, 3, 4, 5, 6}, new Shape(3, 2)).transpose();
      ParameterBinding copied = ParameterBinding.of("v", view, "'v'");
      assertFalse(copied.direct());
      assertTrue(copied.stillHolds(view), "the view it was made for");
      assertFalse(copied.stillHolds(view.duplicate()), "another tensor");

      weight.intern(weight.duplicate());
      assertFalse(direct.stillHolds(weight), "the same tensor over other storage");
    }
  }
}
