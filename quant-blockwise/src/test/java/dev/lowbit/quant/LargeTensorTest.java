package dev.lowbit.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Index arithmetic beyond 2^31 elements, without gigabytes of RAM: the segments are mappings of
 * sparse files, so only the pages a test touches are ever backed by memory or disk.
 */
class LargeTensorTest {
  private static final long LENGTH =
      (1L << 32) + 101; // odd, and more elements than an int can count
  private static final int BLOCK = 64;

  @TempDir Path dir;

  @Test
  void sizesAreExactLongs() {
    assertEquals(LENGTH / 2 + 1, PackedCodes.byteSize(4, LENGTH));
    assertEquals(LENGTH, PackedCodes.byteSize(8, LENGTH));
    long blocks = (LENGTH + BLOCK - 1) / BLOCK;
    assertEquals(blocks, Normalization.blockWise(BLOCK).scaleCount(new long[] {LENGTH}));
    assertEquals(LENGTH / 2 + 1 + 4 * blocks,
        QuantizedTensor.byteSize(
            CodeBook.LINEAR_SQUARE_SIGNED_4, Normalization.blockWise(BLOCK), LENGTH));
    assertEquals(4L * (65536 + 65536) + (1L << 31),
        QuantizedTensor.byteSize(CodeBook.LINEAR_4, Normalization.rank1(), 65536, 65536));
  }

  @Test
  void lastBlocksOfAFourBillionElementTensorRoundTrip() throws IOException {
    long blocks = (LENGTH + BLOCK - 1) / BLOCK;
    CodeBook book = CodeBook.LINEAR_SQUARE_SIGNED_4;
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment src = sparse(arena, "src", LENGTH * 4);
      MemorySegment codes = sparse(arena, "codes", PackedCodes.byteSize(4, LENGTH));
      MemorySegment scales = sparse(arena, "scales", blocks * 4);
      QuantizedTensor.wrap(
          book, Normalization.blockWise(BLOCK), new long[] {LENGTH}, codes, scales);

      long first = blocks - 3; // two full blocks and the partial last one (101 % 64 = 37)
      long start = first * BLOCK;
      float[] x = StochasticRoundingTest.gaussian((int) (LENGTH - start), 1);
      MemorySegment.copy(x, 0, src, ValueLayout.JAVA_FLOAT, start * 4, x.length);
      BlockwiseQuantizer.quantizeBlocks(
          book, BLOCK, src, LENGTH, codes, scales, first, 3, Rounding.NEAREST);

      // Same bytes as quantizing those values as a small tensor on the heap.
      QuantizedTensor small =
          QuantizedTensor.allocate(book, Normalization.blockWise(BLOCK), x.length);
      small.quantize(x);
      assertArrayEquals(small.codes().toArray(ValueLayout.JAVA_BYTE),
          codes.asSlice(start / 2).toArray(ValueLayout.JAVA_BYTE));
      assertArrayEquals(small.scales().toArray(ValueLayout.JAVA_FLOAT),
          scales.asSlice(first * 4).toArray(ValueLayout.JAVA_FLOAT), 0f);
      assertEquals(PackedCodes.get(small.codes(), 4, x.length - 1),
          PackedCodes.get(codes, 4, LENGTH - 1));
    }
  }

  @Test
  void packedCodesAddressBytesBeyondTwoGigabytes() throws IOException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment codes = sparse(arena, "codes8", LENGTH);
      long i = (1L << 31) + 12345;
      PackedCodes.set(codes, 8, i, 200);
      PackedCodes.set(codes, 8, LENGTH - 1, 7);
      assertEquals(200, PackedCodes.get(codes, 8, i));
      assertEquals(7, PackedCodes.get(codes, 8, LENGTH - 1));
      assertEquals(0, PackedCodes.get(codes, 8, i - 1));
    }
  }

  private MemorySegment sparse(Arena arena, String name, long bytes) throws IOException {
    Path file = dir.resolve(name);
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      raf.setLength(bytes);
    }
    try (FileChannel channel =
        FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      return channel.map(FileChannel.MapMode.READ_WRITE, 0, bytes, arena);
    }
  }
}
