package knit.am

import knit.contract._

import java.nio.charset.StandardCharsets.UTF_8
import java.util.Base64

import org.apache.hadoop.conf.Configuration
import org.apache.hadoop.fs.{FSDataOutputStream, FileContext, FileSystem, Options, Path}
import org.apache.hadoop.fs.permission.FsPermission

/** What a new attempt of the ApplicationMaster needs from the last one, in HDFS beside
  * the launch contract (files mode 600):
  *
  *  - a snapshot, `<app>.am.json`: each service's target, restarts used, whether it was
  *    begun and how many containers it launched, the key-value store, and the name of
  *    the journal begun before it was taken. Written from the main loop when something
  *    changed, to a file beside it renamed over it (an attempt killed while writing
  *    leaves the last whole snapshot);
  *  - the journal, `<app>.am.journal.<attempt>.<n>`: one line per change of the
  *    key-value store, flushed to the DataNodes (`hflush`, a millisecond or two) before
  *    the change is acknowledged. Replayed in order onto the snapshot, it gives the store
  *    as it was: a change the snapshot already holds is only made again. When it has
  *    [[JournalLimit]] lines, the main loop starts a new one with a new snapshot.
  *
  * A later attempt [[load]]s both and [[begin]]s a journal of its own.
  */
final class StateStore(conf: Configuration, file: String, attempt: Int, log: String => Unit) {
  import StateStore._

  @volatile private var dirty = false
  private val path = new Path(file)
  private val partial = new Path(s"$file.partial")
  private lazy val fs = path.getFileSystem(conf)
  // The journal: its path, its stream (none while a new one could not be opened).
  private val journalLock = new Object
  private var journalPath: Option[Path] = None
  private var journal: Option[FSDataOutputStream] = None
  private var journalLines = 0
  private var generation = 0

  def markDirty(): Unit = dirty = true

  /** Journal one change of the key-value store (called with the store locked, so in the
    * order the changes were made). A journaled change needs no new snapshot; one HDFS
    * refused (or made before the first journal) waits for the next snapshot, which the
    * main loop takes at once. */
  def record(change: KeyValueStore.Change): Unit = journalLock.synchronized {
    journal match {
      case Some(out) =>
        try {
          out.write((line(change) + "\n").getBytes(UTF_8))
          out.hflush()
          journalLines += 1
        } catch {
          case e: java.io.IOException =>
            log(s"journaling a key-value change failed ($e); it is in the next snapshot")
            journal = None
            journalLines = JournalLimit
            dirty = true
        }
      case None => dirty = true
    }
  }

  /** Whether the journal should be replaced (full, or lost to an error). */
  def journalFull: Boolean = journalLock.synchronized(journal.isEmpty || journalLines >= JournalLimit)

  /** Start a new journal and write a snapshot naming it, then drop the old journal.
    * Called with the key-value store locked (no change between `snapshot` and the new
    * journal is lost). */
  def begin(snapshot: Snapshot): Unit = synchronized {
    generation += 1
    val next = new Path(s"$file.journal.$attempt.$generation")
    try {
      val out = FileSystem.create(fs, next, Private)
      try write(snapshot, Some(next.getName))
      catch { case e: java.io.IOException => out.close(); fs.delete(next, false); throw e }
      val previous = journalLock.synchronized {
        val old = (journalPath, journal)
        journalPath = Some(next); journal = Some(out); journalLines = 0
        old
      }
      previous._2.foreach(out => try out.close() catch { case _: java.io.IOException => () })
      previous._1.foreach(old => try fs.delete(old, false) catch { case _: java.io.IOException => () })
      dirty = false
    } catch {
      case e: java.io.IOException =>
        dirty = true
        log(s"starting a new state journal in $file failed: $e")
    }
  }

  /** Write the snapshot when something changed (`snapshot` is taken before this store
    * is locked: [[begin]] locks them the other way round). */
  def saveIfDirty(snapshot: => Snapshot): Unit = if (dirty) {
    val taken = snapshot
    synchronized {
      dirty = false
      try write(taken, journalLock.synchronized(journalPath.map(_.getName)))
      catch {
        case e: java.io.IOException =>
          dirty = true
          log(s"saving the state to $file failed: $e")
      }
    }
  }

  private def write(snapshot: Snapshot, journalName: Option[String]): Unit = {
    val out = FileSystem.create(fs, partial, Private)
    try out.write(snapshot.json(journalName).getBytes(UTF_8)) finally out.close()
    FileContext.getFileContext(path.toUri, conf).rename(partial, path, Options.Rename.OVERWRITE)
  }

  /** The previous attempt's state: its snapshot with its journal replayed. */
  def load(): Saved =
    try {
      if (!fs.exists(path)) Saved(Map.empty, Map.empty)
      else {
        val saved = parse(read(path))
        saved.journal.map(name => new Path(path.getParent, name)).filter(fs.exists) match {
          case Some(journalFile) =>
            journalLock.synchronized { journalPath = Some(journalFile) } // dropped by begin()
            replay(saved, read(journalFile))
          case None => saved
        }
      }
    } catch {
      case e: Exception =>
        log(s"reading the previous attempt's state failed: $e")
        Saved(Map.empty, Map.empty)
    }

  private def read(file: Path): String = {
    val in = fs.open(file)
    try new String(in.readAllBytes(), UTF_8) finally in.close()
  }
}

object StateStore {
  /** Journal lines before the main loop starts a new journal. */
  val JournalLimit = 1000
  private lazy val Private = new FsPermission(Integer.parseInt("600", 8).toShort)  // (Hadoop classes: made on first use)

  final case class ServiceState(target: Int, restarts: Int, begun: Boolean, launched: Int)

  /** What a snapshot holds; `kvBase64`: the store's values base64-encoded. */
  final case class Snapshot(services: Map[String, ServiceState], kvBase64: Map[String, String],
                            kvOwners: Map[String, String]) {
    def json(journal: Option[String]): String = {
      val saved = services.map { case (name, s) =>
        name -> Map("target" -> s.target, "restarts" -> s.restarts, "begun" -> s.begun, "launched" -> s.launched)
      }
      Json.obj(Seq("services" -> saved, "kv_b64" -> kvBase64, "kv_owners" -> kvOwners) ++
        journal.map("journal" -> _): _*)
    }
  }

  /** A loaded state; `kvBase64`: the store's values base64-encoded. */
  final case class Saved(services: Map[String, ServiceState], kvBase64: Map[String, String],
                         kvOwners: Map[String, String] = Map.empty, journal: Option[String] = None)

  private def int(m: Map[String, Any], key: String): Int = m.get(key).collect { case n: BigDecimal => n.toInt }.getOrElse(0)

  /** A snapshot's text; an older knit's file holds its values as text (`kv`). */
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
    val asText = strings("kv").map { case (k, v) => k -> Base64.getEncoder.encodeToString(v.getBytes(UTF_8)) }
    Saved(services, asText ++ strings("kv_b64"), strings("kv_owners"),
      m.get("journal").collect { case name: String => name })
  }

  /** One journal line. */
  def line(change: KeyValueStore.Change): String = change match {
    case KeyValueStore.Put(key, value, owner) =>
      Json.obj(Seq("put" -> key, "b64" -> Base64.getEncoder.encodeToString(value)) ++ owner.map("owner" -> _): _*)
    case KeyValueStore.Removed(keys) => Json.obj("removed" -> keys)
  }

  /** `saved` with the journal's changes made in order; a line cut short (the attempt
    * died writing it) ends the replay: its change was never acknowledged. */
  def replay(saved: Saved, journal: String): Saved = {
    var values = saved.kvBase64
    var owners = saved.kvOwners
    val changes = journal.split('\n').iterator.filter(_.nonEmpty)
      .map(text => scala.util.Try(Json.parse(text).asInstanceOf[Map[String, Any]]).toOption)
      .takeWhile(_.nonEmpty).flatten
    changes.foreach { change =>
      (change.get("put"), change.get("removed")) match {
        case (Some(key: String), _) =>
          values += key -> change.getOrElse("b64", "").toString
          owners = change.get("owner") match {
            case Some(owner: String) => owners + (key -> owner)
            case _ => owners - key
          }
        case (_, Some(keys: Seq[_])) =>
          keys.foreach { key => values -= key.toString; owners -= key.toString }
        case _ => ()
      }
    }
    saved.copy(kvBase64 = values, kvOwners = owners)
  }
}
