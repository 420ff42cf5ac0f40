package dev.lowbit.djl;

import dev.lowbit.optim.CheckpointWriter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.zip.CRC32C;

/**
 * Renames parameter keys inside a LowBit checkpoint file (the core's safetensors format): DJL's
 * runtime ids become the model's parameter names. Only the JSON header changes; the tensor bytes
 * are copied as they are, and the header's CRC32C is recomputed the way the core's writer
 * documents it ({@link CheckpointWriter#HEADER_CRC_KEY}).
 *
 * <p>The header is edited as text: every occurrence of an old key as a whole token (not preceded
 * or followed by a letter, digit, {@code _} or {@code -}) is replaced, wherever the core put it
 * (tensor keys, per-parameter metadata, the parameter list, the CRC table). Runtime ids
 * ({@code uid-<digits>-<digits>}) occur nowhere else, and names are restricted to characters that
 * need no JSON escaping, so the result is the file the core would have written had the
 * parameters been registered under their names.
 */
final class CheckpointKeys {

  private static final String TOKEN_CHAR = "[A-Za-z0-9_\\-]";
  private static final String HEADER_CRC_MARKER =
      "\"" + CheckpointWriter.HEADER_CRC_KEY + "\":\"";

  private CheckpointKeys() {}

  /**
   * Writes {@code target} as a copy of {@code source} with parameter keys renamed, crash-safely
   * (temporary file, forced to disk, atomic rename).
   *
   * @param source a file written by {@code dev.lowbit.optim.Optimizer.save}
   * @param target the file to write (replaced if it exists)
   * @param renames old key to new key; the new keys must not need JSON escaping
   * @throws IOException if reading or writing fails, or the source is not a LowBit checkpoint
   */
  static void rename(Path source, Path target, Map<String, String> renames) throws IOException {
    try (FileChannel in = FileChannel.open(source, StandardOpenOption.READ)) {
      ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(in, lengthBytes, 0);
      long headerLength = lengthBytes.flip().getLong();
      if (headerLength < 2 || headerLength > in.size() - 8 || headerLength > Integer.MAX_VALUE) {
        throw new IOException(source + ": header length " + headerLength + " is not valid");
      }
      ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
      readFully(in, headerBytes, 8);
      String json = new String(headerBytes.array(), StandardCharsets.UTF_8).strip();
      byte[] header = withHeaderCrc(source, replaceTokens(json, renames));

      Path absolute = target.toAbsolutePath();
      Path tmp = Files.createTempFile(absolute.getParent(), "." + absolute.getFileName(), ".tmp");
      boolean moved = false;
      try {
        try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
          ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
          writeFully(out, length.putLong(header.length).flip());
          writeFully(out, ByteBuffer.wrap(header));
          long dataStart = 8 + headerLength;
          long dataSize = in.size() - dataStart;
          for (long done = 0; done < dataSize; ) {
            done += in.transferTo(dataStart + done, dataSize - done, out);
          }
          out.force(true);
        }
        Files.move(tmp, absolute, StandardCopyOption.ATOMIC_MOVE,
            StandardCopyOption.REPLACE_EXISTING);
        moved = true;
      } finally {
        if (!moved) {
          Files.deleteIfExists(tmp);
        }
      }
    }
  }

  /** Replaces every whole-token occurrence of an old key. */
  static String replaceTokens(String text, Map<String, String> renames) {
    if (renames.isEmpty()) {
      return text;
    }
    String alternatives =
        renames.keySet().stream().map(Pattern::quote).collect(Collectors.joining("|"));
    Pattern tokens =
        Pattern.compile("(?<!" + TOKEN_CHAR + ")(?:" + alternatives + ")(?!" + TOKEN_CHAR + ")");
    Matcher m = tokens.matcher(text);
    StringBuilder out = new StringBuilder(text.length());
    while (m.find()) {
      m.appendReplacement(out, Matcher.quoteReplacement(renames.get(m.group())));
    }
    m.appendTail(out);
    return out.toString();
  }

  /** Pads the header with spaces to a multiple of 8 and writes its CRC32C into it. */
  private static byte[] withHeaderCrc(Path source, String json) throws IOException {
    int at = json.indexOf(HEADER_CRC_MARKER);
    if (at < 0 || json.indexOf(HEADER_CRC_MARKER, at + 1) >= 0) {
      throw new IOException(source + ": not a LowBit checkpoint (no single '"
          + CheckpointWriter.HEADER_CRC_KEY + "' entry in its header)");
    }
    byte[] raw = json.getBytes(StandardCharsets.UTF_8);
    byte[] header = Arrays.copyOf(raw, (raw.length + 7) & ~7);
    Arrays.fill(header, raw.length, header.length, (byte) ' ');
    int pos = json.substring(0, at).getBytes(StandardCharsets.UTF_8).length
        + HEADER_CRC_MARKER.length();
    Arrays.fill(header, pos, pos + 8, (byte) '0');
    CRC32C crc = new CRC32C();
    crc.update(header);
    byte[] digits = String.format("%08x", crc.getValue()).getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(digits, 0, header, pos, 8);
    return header;
  }

  private static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
    while (buf.hasRemaining()) {
      if (ch.read(buf, position + buf.position()) < 0) {
        throw new IOException("unexpected end of file");
      }
    }
  }

  private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
    while (buf.hasRemaining()) {
      ch.write(buf);
    }
  }
}
