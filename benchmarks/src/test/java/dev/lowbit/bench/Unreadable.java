package dev.lowbit.bench;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/**
 * A file that opening for reading refuses with "permission denied", for the tests of how a
 * command reports one. Root reads a file without permissions anyway, so under root it is a
 * write-only sysfs attribute, which the kernel refuses to open for reading to anyone; the test
 * is skipped where there is neither.
 */
public final class Unreadable {

  /** Write-only sysfs attributes: present on most Linux machines. */
  private static final List<Path> WRITE_ONLY =
      List.of(Path.of("/sys/bus/pci/rescan"), Path.of("/sys/kernel/mm/page_idle/bitmap"));

  private Unreadable() {}

  /**
   * A file in {@code dir} without permissions, or a system file, that cannot be opened for
   * reading (the calling test is skipped if there is none).
   *
   * @param dir a directory for the file
   * @return the file
   * @throws IOException if the file cannot be created
   */
  public static Path file(Path dir) throws IOException {
    Path file = dir.resolve("unreadable");
    Files.writeString(file, "x");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("---------"));
    if (refused(file)) {
      return file;
    }
    for (Path candidate : WRITE_ONLY) {
      if (refused(candidate)) {
        return candidate;
      }
    }
    assumeTrue(false, "no file here refuses to be read (running as root without sysfs?)");
    return null;
  }

  private static boolean refused(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      return false;
    } catch (AccessDeniedException e) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
