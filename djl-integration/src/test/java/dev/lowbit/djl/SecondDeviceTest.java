package dev.lowbit.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.tracker.Tracker;
import java.io.IOException;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Per-(parameter, device) state, as DJL's parameter server drives it when training on several
 * devices: one {@code update} per device copy of a parameter, each with the summed gradient.
 * This machine has one CPU device and PyTorch refuses any other, so the second copy is a real CPU
 * tensor seen through {@link #onDevice}, which reports another device (the adapter then takes its
 * copy path, as it would for a GPU tensor).
 */
class SecondDeviceTest {

  private static final Device OTHER = Device.gpu(1);
  private static final float[] START = {1f, 2f, 3f, 4f, 5f, 6f};
  private static final float[] GRAD = {0.5f, -1f, 0.25f, 2f, -0.75f, 1.5f};

  @TempDir Path dir;

  private static Supplier<LowBitOptimizer> adamW8bit() {
    // A minimum quantized size of 1 makes even this 6-element tensor's state 8-bit.
    return () -> LowBit.adamW8bit()
        .optMinQuantizedSize(1)
        .optLearningRateTracker(Tracker.fixed(0.1f))
        .build();
  }

  @Test
  void anOverrideCoversTheParametersCopiesOnOtherDevices() {
    // A quoted name (\Q without \E runs to the end) is a regex of its own that must stay valid.
    try (LowBitOptimizer o = LowBit.adamW8bit()
            .optOverride("\\Q01Linear_weight", dev.lowbit.optim.Precision.FP32).build();
        TinyMlp mlp = new TinyMlp(o, 1)) {
      o.bind(mlp.model());
      mlp.train(0);
      long oneCopy = o.stateBytes();
      Parameter w = mlp.model().getBlock().getParameters().get("01Linear_weight");
      o.update(w.getId(), onDevice(w.getArray().duplicate(), OTHER), w.getArray().onesLike());
      // 8192 elements with float32 m and v: 8 bytes each, as on the first device.
      assertEquals(oneCopy + 8L * 8192, o.stateBytes());
    }
  }

  @Test
  void eachDeviceCopyHasItsOwnStateAndStepCount() {
    try (NDManager m = NDManager.newBaseManager("PyTorch")) {
      float[] alone;
      long aloneBytes;
      try (LowBitOptimizer o = adamW8bit().get()) {
        NDArray weight = m.create(START, new Shape(2, 3));
        for (int step = 0; step < 3; step++) {
          o.update("p", weight, m.create(GRAD, new Shape(2, 3)));
        }
        alone = weight.toFloatArray();
        aloneBytes = o.stateBytes();
      }
      try (LowBitOptimizer o = adamW8bit().get()) {
        NDArray first = m.create(START, new Shape(2, 3));
        NDArray second = onDevice(m.create(START, new Shape(2, 3)), OTHER);
        for (int step = 0; step < 3; step++) {
          // As DJL's LocalParameterServer: the same summed gradient for every copy.
          NDArray grad = m.create(GRAD, new Shape(2, 3));
          o.update("p", first, grad);
          o.update("p", second, grad);
        }
        // A shared state would have stepped each copy with t = 2, 4, 6 and moments updated twice.
        assertArrayEquals(alone, first.toFloatArray(), "copy on the first device");
        assertArrayEquals(alone, second.toFloatArray(), "copy on " + OTHER);
        assertEquals(2 * aloneBytes, o.stateBytes(), "one state per (parameter, device)");
        assertFalse(
            o.inPlaceByKey().get("p@" + OTHER), "the other device's copy takes the copy path");
      }
    }
  }

  @Test
  void aCheckpointNamesTheOtherDevicesCopyAndLoadRefusesIt() throws IOException {
    Path checkpoint = dir.resolve("two-devices.safetensors");
    try (LowBitOptimizer optimizer = adamW8bit().get();
        TinyMlp mlp = new TinyMlp(optimizer, 1)) {
      mlp.train(0);
      Parameter weight = mlp.model().getBlock().getParameters().get(0).getValue();
      NDArray copy = onDevice(weight.getArray().duplicate(), OTHER);
      NDArray grad = weight.getArray().onesLike();
      optimizer.update(weight.getId(), copy, grad);
      optimizer.save(mlp.model(), checkpoint);
      String header = CheckpointTest.header(checkpoint);
      String name = mlp.model().getBlock().getParameters().get(0).getKey();
      assertTrue(header.contains("\"" + name + "/"), header);
      assertTrue(header.contains("\"" + name + "@" + OTHER + "/"), header);
    }
    try (LowBitOptimizer optimizer = adamW8bit().get();
        TinyMlp mlp = new TinyMlp(optimizer, 2)) {
      long before = optimizer.stateBytes();
      IOException e =
          assertThrows(IOException.class, () -> optimizer.load(mlp.model(), checkpoint));
      assertTrue(e.getMessage().contains("@" + OTHER), e.getMessage());
      assertEquals(
          before, optimizer.stateBytes(), "a refused load leaves the optimizer as it was");
    }
  }

  /**
   * A load starts the per-device bookkeeping afresh, also for a parameter the checkpoint does not
   * hold (frozen when saved and when loaded) whose first update came from another device: once
   * unfrozen and trained on its own device, it is keyed by its bare name, as a checkpoint of it
   * must be for a later load.
   */
  @Test
  void aLoadForgetsWhichDeviceCameFirstAlsoForAParameterItDoesNotHold() throws IOException {
    Path checkpoint = dir.resolve("first-layer-frozen.safetensors");
    try (LowBitOptimizer optimizer = adamW8bit().get();
        TinyMlp mlp = new TinyMlp(optimizer, 1)) {
      ai.djl.nn.Block firstLayer = mlp.model().getBlock().getChildren().get(0).getValue();
      firstLayer.freezeParameters(true);
      mlp.train(0);
      optimizer.save(mlp.model(), checkpoint);
      Parameter w = mlp.model().getBlock().getParameters().get("01Linear_weight");
      optimizer.update(
          w.getId(), onDevice(w.getArray().duplicate(), OTHER), w.getArray().onesLike());
      optimizer.load(mlp.model(), checkpoint);
      firstLayer.freezeParameters(false);
      mlp.train(1);
      assertEquals(java.util.Set.of("01Linear_weight", "01Linear_bias", "03Linear_weight",
          "03Linear_bias"), optimizer.inPlaceByKey().keySet());
    }
  }

  /**
   * {@code array} as if it lived on {@code device}: {@code getDevice()} says so, and so do the
   * arrays its manager creates (the copy path writes back through one); every other call goes to
   * the real CPU tensor, with such wrapped arguments unwrapped.
   */
  static NDArray onDevice(NDArray array, Device device) {
    return wrap(NDArray.class, array, device);
  }

  private static <T> T wrap(Class<T> type, T target, Device device) {
    return type.cast(
        Proxy.newProxyInstance(
            SecondDeviceTest.class.getClassLoader(),
            new Class<?>[] {type},
            new DeviceView(type, target, device)));
  }

  /** Forwards every call to {@code target} except the device's, wrapping what should say it. */
  private record DeviceView(Class<?> type, Object target, Device device)
      implements InvocationHandler {

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
      if (method.getName().equals("getDevice") && method.getParameterCount() == 0) {
        return device;
      }
      Object result;
      try {
        result = method.invoke(target, unwrap(args));
      } catch (InvocationTargetException e) {
        throw e.getCause();
      }
      if (method.getName().equals("getManager") && result instanceof NDManager manager) {
        return wrap(NDManager.class, manager, device);
      }
      if (type == NDManager.class && method.getName().startsWith("create")
          && result instanceof NDArray created) {
        return wrap(NDArray.class, created, device);
      }
      return result;
    }

    private static Object[] unwrap(Object[] args) {
      if (args == null) {
        return null;
      }
      Object[] out = args.clone();
      for (int i = 0; i < out.length; i++) {
        if (out[i] != null
            && Proxy.isProxyClass(out[i].getClass())
            && Proxy.getInvocationHandler(out[i]) instanceof DeviceView view) {
          out[i] = view.target();
        }
      }
      return out;
    }
  }
}
