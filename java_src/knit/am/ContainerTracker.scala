package knit.am

import scala.collection.mutable

/** Book-keeping of an application's worker containers; no YARN calls, so it is
  * unit-testable. Every method is called with the tracker's lock held by the caller
  * (the ApplicationMaster synchronizes on it).
  */
final class ContainerTracker(now: () => Long = () => System.currentTimeMillis()) {
  final case class Worker(id: String, node: String, nodeHttp: String, memoryMb: Long, vcores: Int,
                          var state: String, var exitStatus: Option[Int] = None, var diagnostics: String = "")

  /** Container asks not yet granted. */
  var pending: Int = 0
  private var askedTotal = 0
  private var lastProgress = now()
  val workers: mutable.LinkedHashMap[String, Worker] = mutable.LinkedHashMap()
  private val removedByUser = mutable.Set[String]()

  def request(count: Int): Unit = {
    pending += count
    askedTotal += count
    lastProgress = now()
  }

  /** Withdraw up to `count` asks not granted yet; returns how many were withdrawn. */
  def withdraw(count: Int): Int = {
    val withdrawn = math.max(0, math.min(count, pending))
    pending -= withdrawn
    askedTotal -= withdrawn
    withdrawn
  }

  /** A container was granted: true if it should be launched, false if surplus. */
  def allocated(id: String, node: String, nodeHttp: String, memoryMb: Long, vcores: Int): Boolean = {
    if (pending <= 0) false
    else {
      pending -= 1
      lastProgress = now()
      workers(id) = Worker(id, node, nodeHttp, memoryMb, vcores, "ALLOCATED")
      true
    }
  }

  def started(id: String): Unit = workers.get(id).foreach(w => if (w.state == "ALLOCATED") w.state = "RUNNING")

  def completed(id: String, exitStatus: Int, diagnostics: String): Unit =
    workers.get(id).foreach { w =>
      w.state = if (removedByUser(id)) "REMOVED" else "COMPLETE"
      w.exitStatus = Some(exitStatus)
      w.diagnostics = diagnostics
    }

  /** Mark a live container as being removed on the user's request. */
  def remove(id: String): Boolean = workers.get(id) match {
    case Some(w) if w.state == "ALLOCATED" || w.state == "RUNNING" => removedByUser += id; true
    case _ => false
  }

  def live: Seq[Worker] = workers.values.filter(w => w.state == "ALLOCATED" || w.state == "RUNNING").toSeq

  def failures: Seq[Worker] = workers.values.filter(w => w.state == "COMPLETE" && !w.exitStatus.contains(0)).toSeq

  def isDone: Boolean = pending == 0 && live.isEmpty && workers.nonEmpty

  /** Asks outstanding for longer than `timeoutMs` without any grant. */
  def allocationStalled(timeoutMs: Long): Boolean = pending > 0 && now() - lastProgress > timeoutMs

  def granted: Int = askedTotal - pending

  def asked: Int = askedTotal

  def progress: Float =
    if (askedTotal == 0) 0f
    else workers.values.count(w => w.state == "COMPLETE" || w.state == "REMOVED").toFloat / askedTotal

  /** (succeeded?, diagnostics) for unregistering. */
  def summary: (Boolean, String) = {
    val failed = failures
    val counts = s"total=${workers.size}, completed=${workers.values.count(_.state == "COMPLETE")}, " +
      s"removed=${removedByUser.size}, failed=${failed.size}"
    if (failed.isEmpty) (true, s"all containers succeeded ($counts)")
    else (false, s"$counts; failed containers: " +
      failed.map(w => s"${w.id} on ${w.node} exit code ${w.exitStatus.getOrElse("?")}" +
        (if (w.diagnostics.trim.nonEmpty) s" (${w.diagnostics.trim.linesIterator.next().take(200)})" else "")).mkString("; "))
  }
}
