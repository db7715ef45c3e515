package knit.am

import knit.contract._

import java.net.InetAddress
import java.nio.ByteBuffer
import java.nio.charset.StandardCharsets.UTF_8
import java.util.{Base64, List => JList}

import scala.jdk.CollectionConverters._

import org.apache.hadoop.fs.{FileSystem, Path}
import org.apache.hadoop.fs.permission.FsPermission
import org.apache.hadoop.yarn.api.ApplicationConstants
import org.apache.hadoop.yarn.api.ApplicationConstants.Environment
import org.apache.hadoop.yarn.api.records._
import org.apache.hadoop.yarn.client.api.AMRMClient.ContainerRequest
import org.apache.hadoop.yarn.client.api.NMClient
import org.apache.hadoop.yarn.client.api.async.{AMRMClientAsync, NMClientAsync}
import org.apache.hadoop.yarn.conf.YarnConfiguration
import org.apache.hadoop.yarn.util.Records

/** What a new attempt of the ApplicationMaster needs from the last one: the target,
  * the restarts used and the key-value store, in an HDFS file (mode 600) beside the
  * launch contract. Written from the main loop when something changed. */
final class StateStore(conf: YarnConfiguration, file: String) {
  final case class Saved(target: Option[Int], restarts: Int, kv: Map[String, String])

  @volatile private var dirty = false
  private val path = new Path(file)

  def markDirty(): Unit = dirty = true

  def saveIfDirty(target: Int, restarts: Int, kv: Map[String, String]): Unit = if (dirty) {
    dirty = false
    try {
      val fs = path.getFileSystem(conf)
      val out = FileSystem.create(fs, path, new FsPermission(Integer.parseInt("600", 8).toShort))
      try out.write(Json.obj("target" -> target, "restarts" -> restarts, "kv" -> kv).getBytes(UTF_8))
      finally out.close()
    } catch {
      case e: java.io.IOException =>
        dirty = true
        println(s"${java.time.Instant.now} knit-am: saving the state to $file failed: $e")
    }
  }

  def load(): Saved =
    try {
      val fs = path.getFileSystem(conf)
      if (!fs.exists(path)) Saved(None, 0, Map.empty)
      else {
        val in = fs.open(path)
        val text = try new String(in.readAllBytes(), UTF_8) finally in.close()
        val m = Json.parse(text).asInstanceOf[Map[String, Any]]
        Saved(m.get("target").collect { case n: BigDecimal => n.toInt },
          m.get("restarts").collect { case n: BigDecimal => n.toInt }.getOrElse(0),
          m.get("kv").collect { case kv: Map[_, _] => kv.map { case (k, v) => k.toString -> v.toString } }
            .getOrElse(Map.empty))
      }
    } catch {
      case e: Exception =>
        println(s"${java.time.Instant.now} knit-am: reading the previous attempt's state failed: $e")
        Saved(None, 0, Map.empty)
    }
}
