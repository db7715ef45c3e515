package knit.am

import java.nio.charset.StandardCharsets.UTF_8

import scala.collection.mutable

/** A small key-value store of the application (e.g. a Dask scheduler's address),
  * set and read through the control endpoint; [[get]] can wait for a key.
  *
  * A key may be owned by a container ([[set]] with `owner`): it is deleted when that
  * container ends ([[release]]). [[set]] with `expected` is a compare-and-set: it
  * changes the key only if its value is the one expected (`Some(None)`: if it is not
  * set), atomically. Values are bytes; [[get]] and [[snapshot]] read them as text.
  *
  * @param journal told every change, in the order they are made and before [[set]],
  *                [[delete]] or [[release]] return (the ApplicationMaster journals it in
  *                HDFS, so a change acknowledged outlives the attempt)
  */
final class KeyValueStore(journal: KeyValueStore.Change => Unit = _ => ()) {
  import KeyValueStore.{Bytes, Put, Removed}
  private val values = mutable.LinkedHashMap[String, Bytes]()
  private val owners = mutable.HashMap[String, String]()

  /** Set `key` to text (UTF-8); see [[setBytes]]. */
  def set(key: String, value: String, owner: Option[String] = None,
          expected: Option[Option[String]] = None): Boolean =
    setBytes(key, value.getBytes(UTF_8), owner, expected.map(_.map(_.getBytes(UTF_8))))

  /** Set `key` (any bytes); false (nothing changed) if `expected` was given and not met. */
  def setBytes(key: String, value: Array[Byte], owner: Option[String] = None,
               expected: Option[Option[Array[Byte]]] = None): Boolean = {
    synchronized {
      if (expected.exists(_.map(Bytes(_)) != values.get(key))) false
      else {
        values(key) = Bytes(value)
        owner match {
          case Some(container) => owners(key) = container
          case None => owners.remove(key)
        }
        journal(Put(key, value, owner))
        notifyAll()
        true
      }
    }
  }

  /** The value of `key` as text (UTF-8), waiting up to `waitMs` for it to be set. */
  def get(key: String, waitMs: Long = 0): Option[String] = getBytes(key, waitMs).map(new String(_, UTF_8))

  /** The value of `key`, waiting up to `waitMs` for it to be set. */
  def getBytes(key: String, waitMs: Long = 0): Option[Array[Byte]] = synchronized {
    val deadline = System.currentTimeMillis() + waitMs
    while (!values.contains(key) && System.currentTimeMillis() < deadline)
      wait(math.max(1, deadline - System.currentTimeMillis()))
    values.get(key).map(_.toArray)
  }

  def delete(key: String): Boolean = synchronized {
    owners.remove(key)
    val had = values.remove(key).nonEmpty
    if (had) journal(Removed(Seq(key)))
    had
  }

  /** Delete the keys `container` owns (it has ended); returns them. */
  def release(container: String): Seq[String] = synchronized {
    val keys = owners.collect { case (key, owner) if owner == container => key }.toSeq.sorted
    keys.foreach { key => owners.remove(key); values.remove(key) }
    if (keys.nonEmpty) journal(Removed(keys))
    keys
  }

  /** `f` with no change made meanwhile (a snapshot taken with the journal it starts). */
  def locked[T](f: => T): T = synchronized(f)

  /** Who owns `key` (a container id), if anyone does. */
  def owner(key: String): Option[String] = synchronized(owners.get(key))

  /** Every key's value as text (UTF-8; bytes that are not UTF-8 show as U+FFFD). */
  def snapshot: Map[String, String] = synchronized(values.map { case (k, v) => k -> new String(v.toArray, UTF_8) }.toMap)

  /** Every key's value, base64-encoded (what the state file keeps: bytes survive). */
  def snapshotBase64: Map[String, String] = synchronized(values.map { case (k, v) =>
    k -> java.util.Base64.getEncoder.encodeToString(v.toArray) }.toMap)

  /** Key -> owning container, of the owned keys. */
  def ownership: Map[String, String] = synchronized(owners.toMap)

  /** Restore an earlier attempt's store: its values base64-encoded (`base64`), or as
    * text (a state file of an older knit), and its owners. */
  def restore(saved: Map[String, String], savedOwners: Map[String, String] = Map.empty,
              base64: Boolean = false): Unit = synchronized {
    values ++= saved.map { case (k, v) =>
      k -> Bytes(if (base64) java.util.Base64.getDecoder.decode(v) else v.getBytes(UTF_8)) }
    owners ++= savedOwners.filter { case (key, _) => values.contains(key) }
    notifyAll()
  }
}

object KeyValueStore {
  /** A change of the store, as [[KeyValueStore]] tells its journal. */
  sealed trait Change
  final case class Put(key: String, value: Array[Byte], owner: Option[String]) extends Change
  final case class Removed(keys: Seq[String]) extends Change

  /** A value: bytes compared by content. */
  final case class Bytes(data: scala.collection.immutable.ArraySeq[Byte]) {
    def toArray: Array[Byte] = data.toArray
  }
  object Bytes {
    def apply(array: Array[Byte]): Bytes = new Bytes(scala.collection.immutable.ArraySeq.from(array))
  }

  private val KeyPattern = "[A-Za-z0-9_.-]{1,128}".r
  val MaxValueBytes = 65536

  /** Why `key` is not acceptable, if it is not. */
  def badKey(key: String): Option[String] =
    if (KeyPattern.matches(key)) None
    else Some(s"key '$key' must be 1 to 128 letters, digits, '_', '.' or '-'")
}
