package org.apache.hadoop.io;

import java.io.File;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;

import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.conf.Configuration;

/**
 * The knit local cluster's stand-in for Hadoop's SecureIOUtils, on the classpath of
 * its NodeManagers only when the cluster is Kerberized.
 *
 * <p>Hadoop's class refuses to load on a secure cluster without libhadoop.so
 * ("Secure IO is not possible without native code extensions"), and Maven Central
 * ships no native library: a NodeManager would then die the first time it read a
 * container's log (to aggregate or serve it). This one makes the same promise, that
 * a file is read only if its owner (and group, when given) is the expected one,
 * with the JDK's POSIX file attributes instead of native fstat calls. It checks the
 * path after opening it rather than the open descriptor, which is good enough for a
 * cluster on one machine; a real cluster has the native library.
 */
public class SecureIOUtils {

  /** A file to be created exists already. */
  public static class AlreadyExistsException extends IOException {
    private static final long serialVersionUID = 1L;

    public AlreadyExistsException(String message) {
      super(message);
    }

    public AlreadyExistsException(Throwable cause) {
      super(cause);
    }
  }

  public static RandomAccessFile openForRandomRead(File file, String mode, String owner,
      String group) throws IOException {
    return forceSecureOpenForRandomRead(file, mode, owner, group);
  }

  protected static RandomAccessFile forceSecureOpenForRandomRead(File file, String mode,
      String owner, String group) throws IOException {
    RandomAccessFile opened = new RandomAccessFile(file, mode);
    return checked(file, owner, group, opened);
  }

  public static FSDataInputStream openFSDataInputStream(File file, String owner, String group)
      throws IOException {
    return forceSecureOpenFSDataInputStream(file, owner, group);
  }

  protected static FSDataInputStream forceSecureOpenFSDataInputStream(File file, String owner,
      String group) throws IOException {
    RawLocalFileSystem local = new RawLocalFileSystem();
    local.initialize(local.getUri(), new Configuration(false));
    FSDataInputStream opened = local.open(new Path(file.getAbsolutePath()));
    return checked(file, owner, group, opened);
  }

  public static FileInputStream openForRead(File file, String owner, String group)
      throws IOException {
    return forceSecureOpenForRead(file, owner, group);
  }

  protected static FileInputStream forceSecureOpenForRead(File file, String owner, String group)
      throws IOException {
    return checked(file, owner, group, new FileInputStream(file));
  }

  /** Create a file that must not exist yet, with the given POSIX permission bits. */
  public static FileOutputStream createForWrite(File file, int permissions) throws IOException {
    StringBuilder bits = new StringBuilder();
    for (int shift = 6; shift >= 0; shift -= 3) {
      int digit = (permissions >> shift) & 7;
      bits.append((digit & 4) != 0 ? 'r' : '-').append((digit & 2) != 0 ? 'w' : '-')
          .append((digit & 1) != 0 ? 'x' : '-');
    }
    try {
      Files.newByteChannel(file.toPath(), java.util.EnumSet.of(StandardOpenOption.CREATE_NEW,
          StandardOpenOption.WRITE), PosixFilePermissions.asFileAttribute(
          PosixFilePermissions.fromString(bits.toString()))).close();
    } catch (java.nio.file.FileAlreadyExistsException e) {
      throw new AlreadyExistsException(e);
    }
    return new FileOutputStream(file);
  }

  private static <T extends java.io.Closeable> T checked(File file, String owner, String group,
      T opened) throws IOException {
    try {
      PosixFileAttributes attributes = Files.readAttributes(file.toPath(),
          PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      String actualOwner = attributes.owner().getName();
      String actualGroup = attributes.group().getName();
      if (owner != null && !owner.equals(actualOwner)) {
        throw new IOException("Owner '" + actualOwner + "' for path " + file
            + " did not match expected owner '" + owner + "'");
      }
      if (group != null && !group.equals(actualGroup)) {
        throw new IOException("Group '" + actualGroup + "' for path " + file
            + " did not match expected group '" + group + "'");
      }
      return opened;
    } catch (IOException e) {
      opened.close();
      throw e;
    }
  }
}
