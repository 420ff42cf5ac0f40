package dev.lowbit.bench.compare;

import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.pooling.Pool;

/** The networks {@code lowbit compare} can train on 28x28 grey-scale images with 10 classes. */
public enum ModelKind {

  /**
   * A multilayer perceptron 784-1024-1024-10 with ReLU: 1.86 M parameters, 99.9% of them in the
   * two large weight matrices that get quantized state.
   */
  MLP {
    @Override
    public Block newBlock() {
      return new SequentialBlock()
          .add(Blocks.batchFlattenBlock(28 * 28))
          .add(Linear.builder().setUnits(1024).build())
          .add(Activation::relu)
          .add(Linear.builder().setUnits(1024).build())
          .add(Activation::relu)
          .add(Linear.builder().setUnits(10).build());
    }
  },

  /**
   * A small convolutional net, sized to train in seconds per epoch on a CPU: conv 3x3x16, max-pool,
   * conv 3x3x32, max-pool, dense 128, dense 10 (207 k parameters; 97% in the 1568x128 dense
   * weight, and the 32x16x3x3 kernel is the 4-D tensor that gets quantized state).
   */
  CNN {
    @Override
    public Block newBlock() {
      return new SequentialBlock()
          .add(conv(16))
          .add(Activation::relu)
          .add(Pool.maxPool2dBlock(new Shape(2, 2), new Shape(2, 2)))
          .add(conv(32))
          .add(Activation::relu)
          .add(Pool.maxPool2dBlock(new Shape(2, 2), new Shape(2, 2)))
          .add(Blocks.batchFlattenBlock())
          .add(Linear.builder().setUnits(128).build())
          .add(Activation::relu)
          .add(Linear.builder().setUnits(10).build());
    }
  };

  private static Block conv(int filters) {
    return Conv2d.builder()
        .setKernelShape(new Shape(3, 3))
        .optPadding(new Shape(1, 1))
        .setFilters(filters)
        .build();
  }

  /**
   * A new, uninitialized network of this kind; it takes input of shape {@code (batch, 1, 28, 28)}.
   *
   * @return the block
   */
  public abstract Block newBlock();

  /**
   * The input shape of one image, batch dimension first.
   *
   * @param batch the batch size
   * @return {@code (batch, 1, 28, 28)}
   */
  public Shape inputShape(int batch) {
    return new Shape(batch, 1, 28, 28);
  }
}
