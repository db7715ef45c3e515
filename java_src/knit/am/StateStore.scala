package knit.am

import knit.contract._

import java.nio.charset.StandardCharsets.UTF_8

import org.apache.hadoop.fs.{FileSystem, Path}
import org.apache.hadoop.fs.permission.FsPermission
import org.apache.hadoop.yarn.conf.YarnConfiguration

/** What a new attempt of the ApplicationMaster needs from the last one: each service's
  * target, restarts used, whether it was begun (its dependencies had started) and how
  * many containers it launched, and the key-value store, in an HDFS file (mode 600)
  * beside the launch contract. Written from the main loop when something changed. */
final class StateStore(conf: YarnConfiguration, file: String) {
  import StateStore._

  @volatile private var dirty = false
  private val path = new Path(file)

  def markDirty(): Unit = dirty = true

  /** Save when changed; `kvBase64` holds the store's values base64-encoded. */
  def saveIfDirty(services: Map[String, ServiceState], kvBase64: Map[String, String],
                  kvOwners: Map[String, String] = Map.empty): Unit = if (dirty) {
    dirty = false
    try {
      val fs = path.getFileSystem(conf)
      val out = FileSystem.create(fs, path, new FsPermission(Integer.parseInt("600", 8).toShort))
      val saved = services.map { case (name, s) =>
        name -> Map("target" -> s.target, "restarts" -> s.restarts, "begun" -> s.begun, "launched" -> s.launched)
      }
      try out.write(Json.obj("services" -> saved, "kv_b64" -> kvBase64, "kv_owners" -> kvOwners).getBytes(UTF_8))
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
      if (!fs.exists(path)) Saved(Map.empty, Map.empty)
      else {
        val in = fs.open(path)
        val text = try new String(in.readAllBytes(), UTF_8) finally in.close()
        parse(text)
      }
    } catch {
      case e: Exception =>
        println(s"${java.time.Instant.now} knit-am: reading the previous attempt's state failed: $e")
        Saved(Map.empty, Map.empty)
    }
}

object StateStore {
  final case class ServiceState(target: Int, restarts: Int, begun: Boolean, launched: Int)
  /** `kvBase64`: the store's values base64-encoded; `kv`: as text (an older knit's file). */
  final case class Saved(services: Map[String, ServiceState], kv: Map[String, String],
                         kvOwners: Map[String, String] = Map.empty, kvBase64: Map[String, String] = Map.empty)

  private def int(m: Map[String, Any], key: String): Int = m.get(key).collect { case n: BigDecimal => n.toInt }.getOrElse(0)

  def parse(text: String): Saved = {
    val m = Json.parse(text).asInstanceOf[Map[String, Any]]
    val services = m.get("services").collect { case s: Map[_, _] =>
      s.asInstanceOf[Map[String, Any]].collect { case (name, v: Map[_, _]) =>
        val f = v.asInstanceOf[Map[String, Any]]
        name -> ServiceState(int(f, "target"), int(f, "restarts"), f.get("begun").contains(true), int(f, "launched"))
      }
    }.getOrElse(Map.empty)
    def strings(key: String) = m.get(key).collect { case kv: Map[_, _] =>
      kv.map { case (k, v) => k.toString -> v.toString } }.getOrElse(Map.empty)
    Saved(services, strings("kv"), strings("kv_owners"), strings("kv_b64"))
  }
}
