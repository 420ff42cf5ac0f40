package dev.lowbit.optim;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.UnaryOperator;
import java.util.zip.CRC32C;

/**
 * Edits a saved checkpoint the way another writer could have produced it: with every CRC32C
 * recomputed, so that only the load's checks of the content itself can refuse it.
 */
public final class CheckpointEdits {

  private static final String HEADER_CRC = "\"lowbit.header_crc32c\":\"";

  private CheckpointEdits() {}

  /**
   * Rewrites a checkpoint's header with {@code edit}, padded to 8 bytes again and with its
   * header CRC32C recomputed.
   */
  public static void editHeader(Path file, UnaryOperator<String> edit) throws IOException {
    byte[] bytes = Files.readAllBytes(file);
    int length = (int) ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
    String header =
        edit.apply(new String(bytes, 8, length, StandardCharsets.UTF_8).stripTrailing());
    StringBuilder padded = new StringBuilder(header);
    while (padded.toString().getBytes(StandardCharsets.UTF_8).length % 8 != 0) {
      padded.append(' ');
    }
    byte[] h = resealed(padded.toString()).getBytes(StandardCharsets.UTF_8);
    ByteBuffer out = ByteBuffer.allocate(bytes.length - length + h.length)
        .order(ByteOrder.LITTLE_ENDIAN);
    out.putLong(h.length).put(h).put(bytes, 8 + length, bytes.length - 8 - length);
    Files.write(file, out.array());
  }

  /**
   * Overwrites one float32 element of tensor {@code key} and recomputes the tensor's and the
   * header's CRC32C.
   */
  public static void overwriteFloat(Path file, String key, int index, float value)
      throws IOException {
    byte[] le = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(value).array();
    overwrite(file, key, 4 * index, le);
  }

  /**
   * Overwrites byte {@code index} of tensor {@code key} with {@code value} and recomputes the
   * tensor's and the header's CRC32C.
   */
  public static void overwriteByte(Path file, String key, int index, int value)
      throws IOException {
    overwrite(file, key, index, new byte[] {(byte) value});
  }

  private static void overwrite(Path file, String key, int offset, byte[] value)
      throws IOException {
    byte[] bytes = Files.readAllBytes(file);
    ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    int headerLength = (int) buf.getLong(0);
    String header = new String(bytes, 8, headerLength, StandardCharsets.UTF_8);
    JsonArray offsets = JsonParser.parseString(header).getAsJsonObject()
        .getAsJsonObject(key).getAsJsonArray("data_offsets");
    int begin = 8 + headerLength + offsets.get(0).getAsInt();
    int end = 8 + headerLength + offsets.get(1).getAsInt();
    String before = crcHex(bytes, begin, end);
    System.arraycopy(value, 0, bytes, begin + offset, value.length);
    String after = crcHex(bytes, begin, end);
    // The CRC map is a JSON string inside the metadata: its quotes are escaped.
    String entry = "\\\"" + key + "\\\":\\\"";
    header = header.replace(entry + before, entry + after);
    assertTrue(header.contains(entry + after), "tensor CRC not found in the header");
    byte[] headerBytes = resealed(header).getBytes(StandardCharsets.UTF_8);
    System.arraycopy(headerBytes, 0, bytes, 8, headerLength);
    Files.write(file, bytes);
  }

  /** The header with its CRC32C computed over itself with the CRC's digits set to 0. */
  private static String resealed(String header) {
    int at = header.indexOf(HEADER_CRC) + HEADER_CRC.length();
    String zeroed = header.substring(0, at) + "00000000" + header.substring(at + 8);
    byte[] b = zeroed.getBytes(StandardCharsets.UTF_8);
    return zeroed.substring(0, at) + crcHex(b, 0, b.length) + zeroed.substring(at + 8);
  }

  private static String crcHex(byte[] bytes, int begin, int end) {
    CRC32C crc = new CRC32C();
    crc.update(bytes, begin, end - begin);
    return String.format("%08x", crc.getValue());
  }
}
