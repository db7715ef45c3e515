package knit.cluster

import java.net.URI
import java.nio.file.Files
import java.nio.file.attribute.PosixFilePermissions

import org.apache.hadoop.conf.Configuration
import org.apache.hadoop.fs.local.LocalConfigKeys
import org.apache.hadoop.fs.permission.FsPermission
import org.apache.hadoop.fs.{ChecksumFs, DelegateToFileSystem, FsConstants, FsServerDefaults, Path, RawLocalFileSystem}

/** The local file system as Hadoop's `RawLocalFileSystem`, except that permissions
  * are set through java.nio.
  *
  * Without Hadoop's native library (which Maven Central does not ship), Hadoop sets
  * a local file's permission by starting a `chmod` process, and a NodeManager does
  * that for every file of every archive it unpacks: an environment of 10,000 files
  * takes tens of seconds to localize. knit's local cluster gives its NodeManagers
  * this file system instead (`fs.AbstractFileSystem.file.impl`).
  */
final class NioRawLocalFileSystem extends RawLocalFileSystem {
  override def setPermission(p: Path, permission: FsPermission): Unit =
    if (permission.getStickyBit) super.setPermission(p, permission)
    else Files.setPosixFilePermissions(pathToFile(p).toPath,
      PosixFilePermissions.fromString(permission.toString.take(9)))
}

/** `file://` as an AbstractFileSystem over [[NioRawLocalFileSystem]], as Hadoop's RawLocalFs. */
final class NioRawLocalFs(uri: URI, conf: Configuration)
    extends DelegateToFileSystem(uri, new NioRawLocalFileSystem, conf, FsConstants.LOCAL_FS_URI.getScheme, false) {
  override def getUriDefaultPort: Int = -1
  @deprecated("as in Hadoop", "") override def getServerDefaults: FsServerDefaults = LocalConfigKeys.getServerDefaults
  override def getServerDefaults(f: Path): FsServerDefaults = LocalConfigKeys.getServerDefaults
  override def isValidName(src: String): Boolean = true
}

/** `file://` with checksums, as Hadoop's LocalFs: the value of
  * `fs.AbstractFileSystem.file.impl` for the local cluster's NodeManagers. */
final class NioLocalFs(uri: URI, conf: Configuration) extends ChecksumFs(new NioRawLocalFs(uri, conf)) {
  def this(conf: Configuration) = this(FsConstants.LOCAL_FS_URI, conf)
}
