package knit.am

import scala.collection.mutable

/** A small key-value store of the application (e.g. a Dask scheduler's address),
  * set and read through the control endpoint; [[get]] can wait for a key.
  *
  * A key may be owned by a container ([[set]] with `owner`): it is deleted when that
  * container ends ([[release]]). [[set]] with `expected` is a compare-and-set: it
  * changes the key only if its value is the one expected (`Some(None)`: if it is not
  * set), atomically.
  *
  * @param changed called after every change (the ApplicationMaster saves the store)
  */
final class KeyValueStore(changed: () => Unit = () => ()) {
  private val values = mutable.LinkedHashMap[String, String]()
  private val owners = mutable.HashMap[String, String]()

  /** Set `key`; false (nothing changed) if `expected` was given and not met. */
  def set(key: String, value: String, owner: Option[String] = None,
          expected: Option[Option[String]] = None): Boolean = {
    val done = synchronized {
      if (expected.exists(_ != values.get(key))) false
      else {
        values(key) = value
        owner match {
          case Some(container) => owners(key) = container
          case None => owners.remove(key)
        }
        notifyAll()
        true
      }
    }
    if (done) changed()
    done
  }

  /** The value of `key`, waiting up to `waitMs` for it to be set. */
  def get(key: String, waitMs: Long = 0): Option[String] = synchronized {
    val deadline = System.currentTimeMillis() + waitMs
    while (!values.contains(key) && System.currentTimeMillis() < deadline)
      wait(math.max(1, deadline - System.currentTimeMillis()))
    values.get(key)
  }

  def delete(key: String): Boolean = {
    val had = synchronized { owners.remove(key); values.remove(key).nonEmpty }
    if (had) changed()
    had
  }

  /** Delete the keys `container` owns (it has ended); returns them. */
  def release(container: String): Seq[String] = {
    val gone = synchronized {
      val keys = owners.collect { case (key, owner) if owner == container => key }.toSeq.sorted
      keys.foreach { key => owners.remove(key); values.remove(key) }
      keys
    }
    if (gone.nonEmpty) changed()
    gone
  }

  /** Who owns `key` (a container id), if anyone does. */
  def owner(key: String): Option[String] = synchronized(owners.get(key))

  def snapshot: Map[String, String] = synchronized(values.toMap)

  /** Key -> owning container, of the owned keys. */
  def ownership: Map[String, String] = synchronized(owners.toMap)

  def restore(saved: Map[String, String], savedOwners: Map[String, String] = Map.empty): Unit = synchronized {
    values ++= saved
    owners ++= savedOwners.filter { case (key, _) => values.contains(key) }
    notifyAll()
  }
}

object KeyValueStore {
  private val KeyPattern = "[A-Za-z0-9_.-]{1,128}".r
  val MaxValueBytes = 65536

  /** Why `key` is not acceptable, if it is not. */
  def badKey(key: String): Option[String] =
    if (KeyPattern.matches(key)) None
    else Some(s"key '$key' must be 1 to 128 letters, digits, '_', '.' or '-'")
}
