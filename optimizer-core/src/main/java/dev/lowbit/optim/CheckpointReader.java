package dev.lowbit.optim;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.StringReader;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.CRC32C;

/**
 * A checkpoint file opened for loading, already checked in full: the header length against the
 * file size, the JSON (strict), the format version, the header's CRC32C, every tensor's dtype,
 * shape and offsets (the tensors must cover the data section exactly, with no gaps or overlaps)
 * and every tensor's CRC32C. {@link Optimizer#readCheckpoint(CheckpointReader, String)} then
 * takes what it needs; a key it asks for that is missing, or of another dtype or shape, is a
 * {@link CheckpointException} naming the key.
 *
 * <p>The file is memory-mapped while the reader is open.
 */
public final class CheckpointReader implements AutoCloseable {

  /** Headers above this size are refused, as the safetensors reference implementation does. */
  static final long MAX_HEADER = 100_000_000L;

  private static final ValueLayout.OfFloat LE_FLOAT =
      ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  private record Tensor(String key, String dtype, long[] shape, long begin, long end) {}

  private final Path file;
  private final Arena arena;
  private final MemorySegment data;
  private final Map<String, String> metadata;
  private final Map<String, Tensor> tensors;
  private final Set<String> read = new HashSet<>();

  private CheckpointReader(
      Path file, Arena arena, MemorySegment data, Map<String, String> metadata,
      Map<String, Tensor> tensors) {
    this.file = file;
    this.arena = arena;
    this.data = data;
    this.metadata = metadata;
    this.tensors = tensors;
  }

  /**
   * Opens and checks a checkpoint file.
   *
   * @param file the file
   * @return the reader
   * @throws CheckpointException if the file is missing or cannot be read, or any check fails
   *     (the message says which)
   */
  static CheckpointReader open(Path file) throws CheckpointException {
    try {
      return openChecked(file);
    } catch (CheckpointException e) {
      throw e;
    } catch (NoSuchFileException e) {
      throw new CheckpointException(file, "no such file", e);
    } catch (IOException e) {
      throw new CheckpointException(file, "cannot be read (" + e + ")", e);
    }
  }

  private static CheckpointReader openChecked(Path file) throws IOException {
    // Checked first: a directory opens for reading and its mapping fails with "No such device",
    // naming no file; a pipe would block the open.
    BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
    if (attributes.isDirectory()) {
      throw new CheckpointException(file, "is a directory, not a checkpoint file");
    }
    if (!attributes.isRegularFile()) {
      throw new CheckpointException(file, "is not a regular file");
    }
    Arena arena = Arena.ofConfined();
    try {
      MemorySegment whole;
      try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
        whole = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
      }
      CheckpointReader reader = parse(file, arena, whole);
      return reader;
    } catch (IOException | RuntimeException e) {
      arena.close();
      throw e;
    }
  }

  private static CheckpointReader parse(Path file, Arena arena, MemorySegment whole)
      throws CheckpointException {
    long size = whole.byteSize();
    if (size < 8) {
      throw new CheckpointException(
          file, "file is " + size + " bytes, too short for the 8-byte header length");
    }
    long n = whole.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
    if (n < 2 || n > size - 8) {
      throw new CheckpointException(
          file, "header length " + n + " does not fit a file of " + size + " bytes");
    }
    if (n > MAX_HEADER) {
      throw new CheckpointException(
          file, "header length " + n + " is above the limit of " + MAX_HEADER + " bytes");
    }
    byte[] header = whole.asSlice(8, n).toArray(ValueLayout.JAVA_BYTE);
    String json;
    try {
      json = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(java.nio.ByteBuffer.wrap(header))
          .toString();
    } catch (CharacterCodingException e) {
      throw new CheckpointException(file, "header is not valid UTF-8", e);
    }
    JsonObject root = strictObject(file, "header", json);
    JsonObject metaJson = objectField(file, root, "__metadata__", "header");
    Map<String, String> metadata = new LinkedHashMap<>();
    for (Map.Entry<String, JsonElement> e : metaJson.entrySet()) {
      JsonElement v = e.getValue();
      if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString()) {
        throw new CheckpointException(
            file, "metadata '" + e.getKey() + "' is not a string, as safetensors requires");
      }
      metadata.put(e.getKey(), v.getAsString());
    }
    String version = metadata.get(CheckpointWriter.VERSION_KEY);
    if (version == null) {
      throw new CheckpointException(
          file, "metadata '" + CheckpointWriter.VERSION_KEY
              + "' is missing: not a LowBit checkpoint");
    }
    if (!version.equals(CheckpointWriter.FORMAT_VERSION)) {
      throw new CheckpointException(
          file, "unsupported format version '" + version + "' (this LowBit reads version "
              + CheckpointWriter.FORMAT_VERSION + ")");
    }
    checkHeaderCrc(file, header, json, metadata);

    long dataSize = size - 8 - n;
    List<Tensor> list = new ArrayList<>();
    for (Map.Entry<String, JsonElement> e : root.entrySet()) {
      if (!e.getKey().equals("__metadata__")) {
        list.add(tensorEntry(file, e.getKey(), e.getValue()));
      }
    }
    list.sort(Comparator.comparingLong(Tensor::begin).thenComparingLong(Tensor::end));
    long expected = 0;
    for (Tensor t : list) {
      if (t.begin != expected) {
        throw new CheckpointException(
            file, "tensor '" + t.key + "': data_offsets begin at " + t.begin + ", expected "
                + expected + " (tensors must cover the data without gaps or overlaps)");
      }
      expected = t.end;
    }
    if (expected != dataSize) {
      throw new CheckpointException(
          file, "data section is " + dataSize + " bytes but the tensors cover " + expected
              + " (file truncated or extended)");
    }
    MemorySegment data = whole.asSlice(8 + n, dataSize);
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    for (Tensor t : list) {
      tensors.put(t.key, t);
    }
    checkTensorCrcs(file, metadata, tensors, data);
    return new CheckpointReader(file, arena, data, metadata, tensors);
  }

  private static void checkHeaderCrc(
      Path file, byte[] header, String json, Map<String, String> metadata)
      throws CheckpointException {
    String stored = metadata.get(CheckpointWriter.HEADER_CRC_KEY);
    if (stored == null) {
      throw new CheckpointException(
          file, "metadata '" + CheckpointWriter.HEADER_CRC_KEY + "' is missing");
    }
    String marker = CheckpointWriter.HEADER_CRC_MARKER;
    int at = json.indexOf(marker);
    if (at < 0 || json.indexOf(marker, at + 1) >= 0 || stored.length() != 8) {
      throw new CheckpointException(
          file, "metadata '" + CheckpointWriter.HEADER_CRC_KEY + "' is not in the written form");
    }
    int pos = json.substring(0, at).getBytes(StandardCharsets.UTF_8).length + marker.length();
    byte[] zeroed = header.clone();
    Arrays.fill(zeroed, pos, pos + 8, (byte) '0');
    CRC32C crc = new CRC32C();
    crc.update(zeroed);
    String computed = CheckpointWriter.hex(crc.getValue());
    if (!computed.equals(stored)) {
      throw new CheckpointException(
          file, "header CRC32C mismatch (stored " + stored + ", computed " + computed
              + "): the header is damaged");
    }
  }

  private static Tensor tensorEntry(Path file, String key, JsonElement value)
      throws CheckpointException {
    if (!value.isJsonObject()) {
      throw new CheckpointException(file, "tensor '" + key + "': entry is not a JSON object");
    }
    JsonObject o = value.getAsJsonObject();
    JsonElement dtypeJson = o.get("dtype");
    if (dtypeJson == null || !dtypeJson.isJsonPrimitive()) {
      throw new CheckpointException(file, "tensor '" + key + "': dtype is missing");
    }
    String dtype = dtypeJson.getAsString();
    int elementSize = switch (dtype) {
      case "BOOL", "U8", "I8", "F8_E4M3", "F8_E5M2" -> 1;
      case "F16", "BF16", "I16", "U16" -> 2;
      case "F32", "I32", "U32" -> 4;
      case "F64", "I64", "U64" -> 8;
      default -> throw new CheckpointException(
          file, "tensor '" + key + "': unknown dtype '" + dtype + "'");
    };
    long[] shape = longs(file, key, "shape", o.get("shape"), -1);
    long[] offsets = longs(file, key, "data_offsets", o.get("data_offsets"), 2);
    long count = 1;
    try {
      for (long d : shape) {
        count = Math.multiplyExact(count, d);
      }
      count = Math.multiplyExact(count, elementSize);
    } catch (ArithmeticException e) {
      throw new CheckpointException(file, "tensor '" + key + "': shape is too large");
    }
    if (offsets[1] < offsets[0] || offsets[1] - offsets[0] != count) {
      throw new CheckpointException(
          file, "tensor '" + key + "': data_offsets " + Arrays.toString(offsets) + " do not hold "
              + dtype + " shape " + Arrays.toString(shape) + " (" + count + " bytes)");
    }
    return new Tensor(key, dtype, shape, offsets[0], offsets[1]);
  }

  private static long[] longs(Path file, String key, String field, JsonElement e, int size)
      throws CheckpointException {
    if (e == null || !e.isJsonArray() || (size >= 0 && e.getAsJsonArray().size() != size)) {
      throw new CheckpointException(
          file, "tensor '" + key + "': " + field + " is missing or not an array"
              + (size >= 0 ? " of " + size : ""));
    }
    JsonArray a = e.getAsJsonArray();
    long[] out = new long[a.size()];
    for (int i = 0; i < out.length; i++) {
      JsonElement x = a.get(i);
      try {
        if (!x.isJsonPrimitive() || !x.getAsJsonPrimitive().isNumber()) {
          throw new NumberFormatException();
        }
        out[i] = x.getAsJsonPrimitive().getAsBigDecimal().longValueExact();
      } catch (NumberFormatException | ArithmeticException ex) {
        throw new CheckpointException(
            file, "tensor '" + key + "': " + field + "[" + i + "] is not an integer");
      }
      if (out[i] < 0) {
        throw new CheckpointException(
            file, "tensor '" + key + "': " + field + "[" + i + "] is negative");
      }
    }
    return out;
  }

  private static void checkTensorCrcs(
      Path file, Map<String, String> metadata, Map<String, Tensor> tensors, MemorySegment data)
      throws CheckpointException {
    String table = metadata.get(CheckpointWriter.CRC_KEY);
    if (table == null) {
      throw new CheckpointException(file, "metadata '" + CheckpointWriter.CRC_KEY + "' is missing");
    }
    JsonObject crcs = strictObject(file, "metadata '" + CheckpointWriter.CRC_KEY + "'", table);
    for (String key : crcs.keySet()) {
      if (!tensors.containsKey(key)) {
        throw new CheckpointException(
            file, "metadata '" + CheckpointWriter.CRC_KEY + "' lists tensor '" + key
                + "', which the header does not have");
      }
    }
    for (Tensor t : tensors.values()) {
      JsonElement stored = crcs.get(t.key);
      if (stored == null || !stored.isJsonPrimitive()) {
        throw new CheckpointException(file, "tensor '" + t.key + "': no CRC32C in the metadata");
      }
      CRC32C crc = new CRC32C();
      MemorySegment bytes = data.asSlice(t.begin, t.end - t.begin);
      long chunk = 1L << 30;
      for (long off = 0; off < bytes.byteSize(); off += chunk) {
        crc.update(bytes.asSlice(off, Math.min(chunk, bytes.byteSize() - off)).asByteBuffer());
      }
      String computed = CheckpointWriter.hex(crc.getValue());
      if (!computed.equals(stored.getAsString())) {
        throw new CheckpointException(
            file, "tensor '" + t.key + "': CRC32C mismatch (stored " + stored.getAsString()
                + ", computed " + computed + "): the data is damaged");
      }
    }
  }

  static JsonObject strictObject(Path file, String what, String json) throws CheckpointException {
    try {
      JsonReader reader = new JsonReader(new StringReader(json));
      reader.setStrictness(Strictness.STRICT);
      JsonElement e = JsonParser.parseReader(reader);
      if (reader.peek() != JsonToken.END_DOCUMENT) {
        throw new CheckpointException(file, what + " has trailing content after the JSON");
      }
      if (!e.isJsonObject()) {
        throw new CheckpointException(file, what + " is not a JSON object");
      }
      return e.getAsJsonObject();
    } catch (JsonParseException | IOException | IllegalStateException e) {
      throw new CheckpointException(file, what + " is not valid JSON: " + e.getMessage(), e);
    }
  }

  private static JsonObject objectField(Path file, JsonObject o, String field, String where)
      throws CheckpointException {
    JsonElement e = o.get(field);
    if (e == null || !e.isJsonObject()) {
      throw new CheckpointException(file, where + ": '" + field + "' is missing or not an object");
    }
    return e.getAsJsonObject();
  }

  /**
   * The checkpoint file.
   *
   * @return its path
   */
  public Path file() {
    return file;
  }

  /**
   * A metadata value that must be present.
   *
   * @param key the metadata key
   * @return the value
   * @throws CheckpointException if the key is missing
   */
  public String metadata(String key) throws CheckpointException {
    String v = metadata.get(key);
    if (v == null) {
      throw new CheckpointException(file, "metadata '" + key + "' is missing");
    }
    return v;
  }

  /**
   * A metadata value parsed as a strict JSON object.
   *
   * @param key the metadata key
   * @return the object, as Gson's tree
   * @throws CheckpointException if the key is missing or its value is not a JSON object
   */
  JsonObject metadataObject(String key) throws CheckpointException {
    return strictObject(file, "metadata '" + key + "'", metadata(key));
  }

  /**
   * Whether the checkpoint has a tensor with this key.
   *
   * @param key the tensor key
   * @return true if present
   */
  public boolean hasTensor(String key) {
    return tensors.containsKey(key);
  }

  /**
   * Copies an {@code F32} tensor into {@code target} (native byte order).
   *
   * @param key the tensor key
   * @param shape the shape it must have
   * @param target exactly {@code product(shape)} floats
   * @throws CheckpointException if the key is missing or its dtype or shape differ
   */
  public void readFloat32(String key, long[] shape, MemorySegment target)
      throws CheckpointException {
    Tensor t = find(key, "F32", shape, target.byteSize());
    MemorySegment.copy(
        data, LE_FLOAT, t.begin, target, ValueLayout.JAVA_FLOAT_UNALIGNED, 0,
        target.byteSize() / 4);
  }

  /**
   * Copies a {@code U8} tensor into {@code target}.
   *
   * @param key the tensor key
   * @param shape the shape it must have
   * @param target exactly {@code product(shape)} bytes
   * @throws CheckpointException if the key is missing or its dtype or shape differ
   */
  public void readUint8(String key, long[] shape, MemorySegment target)
      throws CheckpointException {
    Tensor t = find(key, "U8", shape, target.byteSize());
    MemorySegment.copy(data, t.begin, target, 0, target.byteSize());
  }

  private Tensor find(String key, String dtype, long[] shape, long targetBytes)
      throws CheckpointException {
    Tensor t = tensors.get(key);
    if (t == null) {
      throw new CheckpointException(file, "tensor '" + key + "' is missing");
    }
    if (!t.dtype.equals(dtype)) {
      throw new CheckpointException(
          file, "tensor '" + key + "': dtype is " + t.dtype + ", expected " + dtype);
    }
    if (!Arrays.equals(t.shape, shape)) {
      throw new CheckpointException(
          file, "tensor '" + key + "': shape is " + Arrays.toString(t.shape) + ", expected "
              + Arrays.toString(shape));
    }
    if (t.end - t.begin != targetBytes) {
      throw new IllegalArgumentException(
          "target for tensor '" + key + "' has " + targetBytes + " bytes, the tensor "
              + (t.end - t.begin));
    }
    read.add(key);
    return t;
  }

  /**
   * Fails if the file holds a tensor nobody asked for (a state this optimizer does not have).
   *
   * @throws CheckpointException naming the first such tensor
   */
  void requireAllRead() throws CheckpointException {
    for (String key : tensors.keySet()) {
      if (!read.contains(key)) {
        throw new CheckpointException(
            file, "tensor '" + key + "' does not belong to any state of this optimizer");
      }
    }
  }

  /** Unmaps the file. */
  @Override
  public void close() {
    arena.close();
  }
}
