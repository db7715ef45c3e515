package knit.am

import scala.collection.mutable

/** A small key-value store of the application (e.g. a Dask scheduler's address),
  * set and read through the control endpoint; [[get]] can wait for a key.
  *
  * @param changed called after every change (the ApplicationMaster saves the store)
  */
final class KeyValueStore(changed: () => Unit = () => ()) {
  private val values = mutable.LinkedHashMap[String, String]()

  def set(key: String, value: String): Unit = {
    synchronized { values(key) = value; notifyAll() }
    changed()
  }

  /** The value of `key`, waiting up to `waitMs` for it to be set. */
  def get(key: String, waitMs: Long = 0): Option[String] = synchronized {
    val deadline = System.currentTimeMillis() + waitMs
    while (!values.contains(key) && System.currentTimeMillis() < deadline)
      wait(math.max(1, deadline - System.currentTimeMillis()))
    values.get(key)
  }

  def delete(key: String): Boolean = {
    val had = synchronized(values.remove(key).nonEmpty)
    if (had) changed()
    had
  }

  def snapshot: Map[String, String] = synchronized(values.toMap)

  def restore(saved: Map[String, String]): Unit = synchronized { values ++= saved; notifyAll() }
}

object KeyValueStore {
  private val KeyPattern = "[A-Za-z0-9_.-]{1,128}".r
  val MaxValueBytes = 65536

  /** Why `key` is not acceptable, if it is not. */
  def badKey(key: String): Option[String] =
    if (KeyPattern.matches(key)) None
    else Some(s"key '$key' must be 1 to 128 letters, digits, '_', '.' or '-'")
}
