package knit.contract

import org.apache.hadoop.conf.Configuration
import org.apache.hadoop.fs.Path
import org.apache.hadoop.yarn.api.records.{LocalResource, LocalResourceType, LocalResourceVisibility, Resource, URL}

/** Files localized into containers: description and YARN records. */
object Resources {
  final case class Described(name: String, uri: String, kind: String, visibility: String,
                             size: Long, timestamp: Long)

  /** Look up size and timestamp of an HDFS file, as localization requires. */
  def describe(conf: Configuration, name: String, uri: String, kind: String, visibility: String): Described = {
    val path = new Path(uri)
    val fs = path.getFileSystem(conf)
    val status = fs.getFileStatus(path)
    LocalResourceType.valueOf(kind)
    LocalResourceVisibility.valueOf(visibility)
    Described(name, fs.makeQualified(path).toString, kind, visibility, status.getLen, status.getModificationTime)
  }

  def toLocalResource(r: Described): LocalResource =
    LocalResource.newInstance(URL.fromPath(new Path(r.uri)), LocalResourceType.valueOf(r.kind),
      LocalResourceVisibility.valueOf(r.visibility), r.size, r.timestamp)
}

/** A container's size as YARN takes it: memory, vcores and counts of other resource
  * types (`yarn.io/gpu`, or any the cluster declares in its resource-types.xml). */
object Capability {
  def apply(memoryMb: Long, vcores: Int, extra: Map[String, Long]): Resource = {
    val r = Resource.newInstance(memoryMb, vcores)
    extra.foreach { case (kind, count) => r.setResourceValue(kind, count) }
    r
  }
}
