package dev.lowbit.bench.data;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/** Writes unsigned-byte IDX files, gzip-compressed; used to make the embedded sample. */
public final class IdxWriter {

  private IdxWriter() {}

  /**
   * Writes one gzip-compressed IDX file.
   *
   * @param file the file to write (replaced if present)
   * @param dimensions the sizes, outermost first
   * @param data {@code product(dimensions)} bytes
   * @throws IOException if the file cannot be written
   * @throws IllegalArgumentException if {@code data} does not match {@code dimensions}
   */
  public static void writeGzip(Path file, int[] dimensions, byte[] data) throws IOException {
    long expected = 1;
    for (int d : dimensions) {
      expected *= d;
    }
    if (expected != data.length) {
      throw new IllegalArgumentException(
          "data has " + data.length + " bytes, dimensions need " + expected);
    }
    try (OutputStream raw = Files.newOutputStream(file);
        DataOutputStream out = new DataOutputStream(new GZIPOutputStream(raw))) {
      out.write(new byte[] {0, 0, 0x08, (byte) dimensions.length});
      for (int d : dimensions) {
        out.writeInt(d);
      }
      out.write(data);
    }
  }
}
