package dev.lowbit.optim;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.zip.CRC32C;

/**
 * Collects the tensors and metadata of one checkpoint and writes them as a safetensors file.
 * {@link Optimizer#save(java.nio.file.Path)} creates one and hands it to
 * {@link Optimizer#writeCheckpoint(CheckpointWriter, String)}; optimizers that keep more state
 * (such as Shampoo) add their own tensors and metadata there.
 *
 * <p>File layout (safetensors): an 8-byte little-endian header length {@code N}, {@code N} bytes
 * of JSON padded with spaces to a multiple of 8, then the tensors' raw little-endian bytes, in
 * the order they were added, with no gaps. The writer adds three metadata entries itself:
 * {@value #VERSION_KEY} ({@value #FORMAT_VERSION}), {@value #CRC_KEY} (a JSON object mapping every
 * tensor key to the CRC32C of its bytes, 8 hex digits) and {@value #HEADER_CRC_KEY} (the CRC32C of
 * the padded header bytes with this value's own 8 digits written as zeros).
 */
public final class CheckpointWriter {

  /** Metadata key of the format version. */
  public static final String VERSION_KEY = "lowbit.format_version";

  /** The format version this code writes and reads. */
  public static final String FORMAT_VERSION = "1";

  /** Metadata key of the per-tensor CRC32C table. */
  public static final String CRC_KEY = "lowbit.crc32c";

  /** Metadata key of the header's own CRC32C. */
  public static final String HEADER_CRC_KEY = "lowbit.header_crc32c";

  static final String HEADER_CRC_MARKER = "\"" + HEADER_CRC_KEY + "\":\"";

  private static final int CHUNK = 1 << 20;
  private static final ValueLayout.OfFloat LE_FLOAT =
      ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  private record Tensor(String dtype, long[] shape, MemorySegment data) {}

  private final Map<String, String> metadata = new LinkedHashMap<>();
  private final Map<String, Tensor> tensors = new LinkedHashMap<>();

  CheckpointWriter() {}

  /**
   * Adds a metadata entry (safetensors metadata values are strings: store structured values as
   * JSON text).
   *
   * @param key a key not used before and not one of the writer's own
   * @param value the value
   * @throws IllegalArgumentException if the key was already added or is reserved
   */
  public void putMetadata(String key, String value) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(value, "value");
    if (key.equals(VERSION_KEY) || key.equals(CRC_KEY) || key.equals(HEADER_CRC_KEY)) {
      throw new IllegalArgumentException("metadata key '" + key + "' is reserved");
    }
    if (metadata.putIfAbsent(key, value) != null) {
      throw new IllegalArgumentException("metadata key '" + key + "' was already added");
    }
  }

  /**
   * Adds a float32 tensor ({@code F32}); the floats are read in native byte order and written
   * little-endian. The segment is read when the file is written, not now.
   *
   * @param key a key not used before
   * @param shape the tensor's shape
   * @param floats exactly {@code product(shape)} floats
   */
  public void addFloat32(String key, long[] shape, MemorySegment floats) {
    add(key, "F32", shape, floats, 4);
  }

  /**
   * Adds a byte tensor ({@code U8}), such as packed codes.
   *
   * @param key a key not used before
   * @param shape the tensor's shape
   * @param bytes exactly {@code product(shape)} bytes
   */
  public void addUint8(String key, long[] shape, MemorySegment bytes) {
    add(key, "U8", shape, bytes, 1);
  }

  private void add(String key, String dtype, long[] shape, MemorySegment data, int elementSize) {
    Objects.requireNonNull(key, "key");
    if (key.equals("__metadata__")) {
      throw new IllegalArgumentException("tensor key '__metadata__' is reserved");
    }
    long count = 1;
    for (long d : shape) {
      count *= d;
    }
    if (count * elementSize != data.byteSize()) {
      throw new IllegalArgumentException(
          "tensor '" + key + "': shape needs " + count * elementSize + " bytes, the segment has "
              + data.byteSize());
    }
    if (tensors.putIfAbsent(key, new Tensor(dtype, shape.clone(), data)) != null) {
      throw new IllegalArgumentException("tensor key '" + key + "' was already added");
    }
  }

  /**
   * Writes the file crash-safely: to a temporary file in the same directory
   * ({@code .lowbit-<random>.tmp}, locked while it is written), forced to disk, then renamed over
   * {@code path} atomically. On failure the old file (if any) is untouched. A temporary file left
   * by a writer that died (its lock went with its process) is deleted by the next write to the
   * directory. A replaced file's permissions carry over.
   *
   * @param path the checkpoint file
   * @throws IOException if writing fails; the message names {@code path} (not the temporary
   *     file) and the cause
   */
  void write(Path path) throws IOException {
    try {
      writeCrashSafely(path);
    } catch (IOException e) {
      throw new IOException("checkpoint " + path + ": cannot be written (" + e + ")", e);
    }
  }

  private void writeCrashSafely(Path path) throws IOException {
    Path absolute = path.toAbsolutePath();
    Path dir = absolute.getParent();
    if (dir == null) { // the file system's root: a directory, which the rename could not replace
      throw new FileSystemException(absolute.toString(), null, "is a directory");
    }
    if (!Files.isDirectory(dir)) {
      throw new NoSuchFileException(dir.toString(), null, "no such directory");
    }
    byte[] header = header();
    if (header.length > CheckpointReader.MAX_HEADER) {
      // Checked here, before any file is touched: no load would accept such a file.
      throw new IOException("its header would be " + header.length + " bytes, above the "
          + CheckpointReader.MAX_HEADER + " a load accepts (very long or very many parameter"
          + " names)");
    }
    deleteAbandonedTemporaries(dir);
    Path tmp = newTemporary(dir);
    boolean moved = false;
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
      ch.lock(); // held until the channel closes, after the rename
      ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      length.putLong(header.length).flip();
      writeFully(ch, length);
      writeFully(ch, ByteBuffer.wrap(header));
      byte[] chunk = new byte[CHUNK];
      for (Tensor t : tensors.values()) {
        forEachChunk(t, chunk, n -> writeFully(ch, ByteBuffer.wrap(chunk, 0, n)));
      }
      ch.force(true);
      keepPermissions(absolute, tmp);
      // Renamed while still locked, so that no other writer takes it for abandoned.
      Files.move(
          tmp, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      moved = true;
    } finally {
      if (!moved) {
        Files.deleteIfExists(tmp);
      }
    }
    syncDirectory(dir);
  }

  /** Prefix of the temporary files {@link #write} creates (short: the name limit is 255 bytes). */
  static final String TEMPORARY_PREFIX = ".lowbit-";

  /** Suffix of the temporary files {@link #write} creates. */
  static final String TEMPORARY_SUFFIX = ".tmp";

  /** A new, empty temporary file in {@code dir}, created with the default permissions. */
  private static Path newTemporary(Path dir) throws IOException {
    while (true) {
      Path candidate = dir.resolve(TEMPORARY_PREFIX
          + Long.toUnsignedString(ThreadLocalRandom.current().nextLong()) + TEMPORARY_SUFFIX);
      try {
        return Files.createFile(candidate);
      } catch (FileAlreadyExistsException e) {
        // Another name, then.
      }
    }
  }

  /**
   * Deletes the temporary files of writers that died mid-write: a live writer holds a lock on
   * its file, which the operating system drops with the process. Best effort: a file that
   * cannot be opened, locked or deleted is left alone.
   */
  private static void deleteAbandonedTemporaries(Path dir) {
    try (DirectoryStream<Path> files =
        Files.newDirectoryStream(dir, TEMPORARY_PREFIX + "*" + TEMPORARY_SUFFIX)) {
      for (Path file : files) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE);
            FileLock lock = ch.tryLock()) {
          if (lock != null) {
            Files.deleteIfExists(file);
          }
        } catch (IOException | OverlappingFileLockException e) {
          // Being written (by this JVM: OverlappingFileLockException), or not ours to delete.
        }
      }
    } catch (IOException e) {
      // Listing failed: nothing to clean up that we can see.
    }
  }

  /** Gives {@code tmp} the permissions of the file it replaces, where the platform has them. */
  private static void keepPermissions(Path target, Path tmp) {
    try {
      Files.setPosixFilePermissions(tmp, Files.getPosixFilePermissions(target));
    } catch (IOException | UnsupportedOperationException e) {
      // No file to replace, or no POSIX permissions: the defaults stay.
    }
  }

  private byte[] header() throws IOException {
    JsonObject crcs = new JsonObject();
    byte[] chunk = new byte[CHUNK];
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      CRC32C crc = new CRC32C();
      forEachChunk(e.getValue(), chunk, n -> crc.update(chunk, 0, n));
      crcs.addProperty(e.getKey(), hex(crc.getValue()));
    }
    Gson gson = new GsonBuilder().disableHtmlEscaping().create();
    JsonObject meta = new JsonObject();
    meta.addProperty(VERSION_KEY, FORMAT_VERSION);
    metadata.forEach(meta::addProperty);
    meta.addProperty(CRC_KEY, gson.toJson(crcs));
    meta.addProperty(HEADER_CRC_KEY, "00000000");
    JsonObject root = new JsonObject();
    root.add("__metadata__", meta);
    long offset = 0;
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      Tensor t = e.getValue();
      JsonObject entry = new JsonObject();
      entry.addProperty("dtype", t.dtype);
      JsonArray shape = new JsonArray();
      for (long d : t.shape) {
        shape.add(d);
      }
      entry.add("shape", shape);
      JsonArray offsets = new JsonArray();
      offsets.add(offset);
      offset += t.data.byteSize();
      offsets.add(offset);
      entry.add("data_offsets", offsets);
      root.add(e.getKey(), entry);
    }
    String json = gson.toJson(root);
    byte[] raw = json.getBytes(StandardCharsets.UTF_8);
    int padded = (raw.length + 7) & ~7;
    byte[] header = new byte[padded];
    System.arraycopy(raw, 0, header, 0, raw.length);
    for (int i = raw.length; i < padded; i++) {
      header[i] = ' ';
    }
    int at = json.indexOf(HEADER_CRC_MARKER);
    int pos = json.substring(0, at).getBytes(StandardCharsets.UTF_8).length
        + HEADER_CRC_MARKER.length();
    CRC32C crc = new CRC32C();
    crc.update(header);
    byte[] digits = hex(crc.getValue()).getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(digits, 0, header, pos, 8);
    return header;
  }

  static String hex(long crc) {
    return String.format("%08x", crc);
  }

  private interface ChunkSink {
    void accept(int length) throws IOException;
  }

  /** Streams a tensor's little-endian bytes through {@code chunk}. */
  private static void forEachChunk(Tensor t, byte[] chunk, ChunkSink sink) throws IOException {
    MemorySegment buffer = MemorySegment.ofArray(chunk);
    long size = t.data.byteSize();
    for (long off = 0; off < size; off += CHUNK) {
      int n = (int) Math.min(CHUNK, size - off);
      if (t.dtype.equals("F32")) {
        MemorySegment.copy(
            t.data, ValueLayout.JAVA_FLOAT_UNALIGNED, off, buffer, LE_FLOAT, 0, n / 4);
      } else {
        MemorySegment.copy(t.data, off, buffer, 0, n);
      }
      sink.accept(n);
    }
  }

  private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
    while (buf.hasRemaining()) {
      ch.write(buf);
    }
  }

  /** Makes the rename durable where the platform allows opening a directory. */
  private static void syncDirectory(Path dir) {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException | UnsupportedOperationException e) {
      // Not every platform can sync a directory; the file itself is already forced.
    }
  }
}
