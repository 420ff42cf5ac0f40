package dev.lowbit.bench.data;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads IDX files (the format of MNIST and Fashion-MNIST), plain or gzip-compressed.
 *
 * <p>The format: two zero bytes, a type byte ({@code 0x08}: unsigned byte, the only type these
 * datasets use), a byte with the number of dimensions, then each dimension as a big-endian
 * 32-bit integer, then the data. Compression is recognized by the gzip magic number, not by the
 * file name. Everything is checked: the magic number, that every dimension is positive, and that
 * exactly {@code product(dimensions)} bytes follow the header.
 */
public final class IdxReader {

  private static final int UNSIGNED_BYTE = 0x08;
  private static final int MAX_DIMENSIONS = 4;
  private static final int GZIP_MAGIC_0 = 0x1f;
  private static final int GZIP_MAGIC_1 = 0x8b;

  private IdxReader() {}

  /**
   * Reads an IDX file.
   *
   * @param file the file, plain or gzip-compressed
   * @return its dimensions and data
   * @throws IdxFormatException if the file is missing, unreadable or malformed (the message names
   *     the file and the problem)
   */
  public static IdxArray read(Path file) throws IdxFormatException {
    String source = file.toString();
    try (InputStream in = Files.newInputStream(file)) {
      return read(source, in);
    } catch (NoSuchFileException e) {
      throw new IdxFormatException(source, "file not found", e);
    } catch (AccessDeniedException e) {
      // Its message is only the path, which the report already names.
      throw new IdxFormatException(source, "cannot be read: permission denied", e);
    } catch (IdxFormatException e) {
      throw e;
    } catch (IOException e) {
      throw new IdxFormatException(source, "cannot be read: " + e.getMessage(), e);
    }
  }

  /**
   * Reads an IDX array from a stream (plain or gzip-compressed). The stream is read to its end but
   * not closed.
   *
   * @param source the name used in error messages (a file name or resource path)
   * @param stream the bytes
   * @return its dimensions and data
   * @throws IdxFormatException if the bytes are not a well-formed IDX array
   */
  public static IdxArray read(String source, InputStream stream) throws IdxFormatException {
    byte[] bytes = readAll(source, stream);
    return parse(source, bytes);
  }

  private static byte[] readAll(String source, InputStream stream) throws IdxFormatException {
    BufferedInputStream in = new BufferedInputStream(stream);
    try {
      in.mark(2);
      int b0 = in.read();
      int b1 = in.read();
      in.reset();
      if (b0 == GZIP_MAGIC_0 && b1 == GZIP_MAGIC_1) {
        return readGzip(source, in);
      }
      return in.readAllBytes();
    } catch (IdxFormatException e) {
      throw e; // already names the file and the problem (a gzip error)
    } catch (IOException e) {
      throw new IdxFormatException(source, "cannot be read: " + e.getMessage(), e);
    }
  }

  private static byte[] readGzip(String source, InputStream in) throws IdxFormatException {
    try (GZIPInputStream gzip = new GZIPInputStream(in)) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      gzip.transferTo(out);
      return out.toByteArray();
    } catch (EOFException e) {
      throw new IdxFormatException(source, "gzip data is truncated (unexpected end of file)", e);
    } catch (ZipException e) {
      throw new IdxFormatException(source, "not valid gzip data: " + e.getMessage(), e);
    } catch (IOException e) {
      throw new IdxFormatException(source, "cannot be decompressed: " + e.getMessage(), e);
    }
  }

  private static IdxArray parse(String source, byte[] bytes) throws IdxFormatException {
    if (bytes.length < 4) {
      throw new IdxFormatException(
          source, "too short for an IDX header (" + bytes.length + " bytes, need at least 4)");
    }
    if (bytes[0] != 0 || bytes[1] != 0) {
      throw new IdxFormatException(
          source,
          String.format(
              "wrong magic number: first two bytes are 0x%02x 0x%02x, an IDX file starts with 0x00"
                  + " 0x00",
              bytes[0] & 0xff, bytes[1] & 0xff));
    }
    int type = bytes[2] & 0xff;
    if (type != UNSIGNED_BYTE) {
      throw new IdxFormatException(
          source,
          String.format(
              "unsupported data type 0x%02x in the magic number (only 0x08, unsigned byte, is"
                  + " supported)",
              type));
    }
    int rank = bytes[3] & 0xff;
    if (rank < 1 || rank > MAX_DIMENSIONS) {
      throw new IdxFormatException(
          source, "number of dimensions is " + rank + ", expected 1 to " + MAX_DIMENSIONS);
    }
    int headerLength = 4 + 4 * rank;
    if (bytes.length < headerLength) {
      throw new IdxFormatException(
          source,
          "truncated header: "
              + rank
              + " dimensions need "
              + headerLength
              + " header bytes, the file has "
              + bytes.length);
    }
    int[] dimensions = new int[rank];
    long expected = 1;
    for (int d = 0; d < rank; d++) {
      int at = 4 + 4 * d;
      int size =
          (bytes[at] & 0xff) << 24
              | (bytes[at + 1] & 0xff) << 16
              | (bytes[at + 2] & 0xff) << 8
              | (bytes[at + 3] & 0xff);
      if (size <= 0) {
        throw new IdxFormatException(
            source, "dimension " + d + " has size " + size + ", must be positive");
      }
      dimensions[d] = size;
      expected *= size;
      if (expected > Integer.MAX_VALUE - headerLength) {
        throw new IdxFormatException(
            source, "dimensions describe more than 2^31 elements, too large to load");
      }
    }
    long actual = bytes.length - (long) headerLength;
    if (actual < expected) {
      throw new IdxFormatException(
          source,
          "truncated: the header announces "
              + expected
              + " data bytes, only "
              + actual
              + " follow");
    }
    if (actual > expected) {
      throw new IdxFormatException(
          source,
          (actual - expected)
              + " unexpected bytes after the "
              + expected
              + " data bytes the header announces");
    }
    byte[] data = new byte[(int) expected];
    System.arraycopy(bytes, headerLength, data, 0, data.length);
    return new IdxArray(source, dimensions, data);
  }
}
