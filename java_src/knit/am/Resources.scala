package knit.am

import java.net.{URLDecoder, URLEncoder}
import java.nio.charset.StandardCharsets.UTF_8

import org.apache.hadoop.conf.Configuration
import org.apache.hadoop.fs.Path
import org.apache.hadoop.yarn.api.records.{LocalResource, LocalResourceType, LocalResourceVisibility, URL}

/** Files localized into containers: description, env encoding, YARN records. */
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

  private def enc(text: String): String = URLEncoder.encode(text, UTF_8)
  private def dec(text: String): String = URLDecoder.decode(text, UTF_8)

  /** One environment-safe string: records separated by spaces, fields by commas, URL-encoded. */
  def encode(resources: Seq[Described]): String =
    resources.map(r => Seq(r.name, r.uri, r.kind, r.visibility, r.size.toString, r.timestamp.toString)
      .map(enc).mkString(",")).mkString(" ")

  def decode(text: String): Seq[Described] =
    text.split(" ").toSeq.filter(_.nonEmpty).map { record =>
      val f = record.split(",", -1).map(dec)
      Described(f(0), f(1), f(2), f(3), f(4).toLong, f(5).toLong)
    }

  def toLocalResource(r: Described): LocalResource =
    LocalResource.newInstance(URL.fromPath(new Path(r.uri)), LocalResourceType.valueOf(r.kind),
      LocalResourceVisibility.valueOf(r.visibility), r.size, r.timestamp)
}
