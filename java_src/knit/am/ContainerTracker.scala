package knit.am

import scala.collection.mutable

/** Book-keeping of an application's worker containers and its restart policy; no YARN
  * calls, so it is unit-testable. Every method locks the tracker: the ResourceManager's
  * and NodeManagers' callback threads and the control endpoint's threads share it.
  *
  * `target` is how many workers should be live or asked for. It grows with asks
  * ([[request]]) and shrinks when an ask is withdrawn, a container is removed on
  * request, succeeds (exit 0: its work is done, it is not rerun), or fails beyond the
  * restart policy. A failed container within the policy is replaced: [[completed]]
  * returns true and the caller asks YARN for one more.
  *
  * A crash loop ends the replacing: when `maxStartFailures` containers in a row fail
  * within `startGraceMs` of starting (or before they start), with no container having
  * run longer than that in between, the tracker turns [[fatal]] and replaces no more.
  *
  * @param maxRestarts failed containers replaced over the application's life; -1 for always
  * @param maxStartFailures start failures in a row that end the application; 0 for no limit
  * @param startGraceMs how long a container must run for its failure not to count as one
  */
final class ContainerTracker(maxRestarts: Int = 0, now: () => Long = () => System.currentTimeMillis(),
                             maxStartFailures: Int = 0, startGraceMs: Long = 0,
                             failWithoutRestarts: Boolean = false) {
  final case class Worker(id: String, node: String, nodeHttp: String, memoryMb: Long, vcores: Int,
                          var state: String, var exitStatus: Option[Int] = None, var diagnostics: String = "",
                          var startedMs: Long = -1, var endedMs: Long = -1)

  private var _pending = 0
  private var _target = 0
  private var _restarts = 0
  private var askedTotal = 0
  private var lastProgress = now()
  private var _fatal: Option[String] = None
  private val _workers = mutable.LinkedHashMap[String, Worker]()
  private val removedByUser = mutable.Set[String]()
  // What ended containers dropped from `_workers` (beyond KeepEnded) still count for.
  private var endedDropped = 0
  private var completeDropped = 0
  private var removedDropped = 0
  private val failuresDropped = mutable.ArrayBuffer[String]()
  private var failuresDroppedCount = 0
  private var startFailuresInARow = 0
  private var lastStartFailureMs = Long.MinValue

  /** Container asks not yet granted. */
  def pending: Int = synchronized(_pending)
  def target: Int = synchronized(_target)
  def restarts: Int = synchronized(_restarts)
  /** Why the application must fail: a container failed with no restart left. */
  def fatal: Option[String] = synchronized(_fatal)
  def workers: Map[String, Worker] = synchronized(_workers.toMap)
  /** Ended containers no longer listed in [[workers]] (the oldest, beyond KeepEnded). */
  def endedNotListed: Int = synchronized(endedDropped)
  def worker(id: String): Option[Worker] = synchronized(_workers.get(id).map(_.copy()))

  /** Restore what an earlier attempt of the ApplicationMaster had reached. */
  def restore(target: Int, restarts: Int): Unit = synchronized { _target = target; _restarts = restarts }

  /** Ask for `count` more workers. */
  def request(count: Int): Unit = synchronized {
    _pending += count
    _target += count
    askedTotal += count
    lastProgress = now()
  }

  /** Ask again for workers the target lacks (after an attempt restart): returns how many. */
  def requestMissing(): Int = synchronized {
    val missing = _target - liveUnlocked.size - _pending
    if (missing > 0) { _pending += missing; askedTotal += missing; lastProgress = now() }
    math.max(0, missing)
  }

  /** Withdraw up to `count` asks not granted yet; returns how many were withdrawn. */
  def withdraw(count: Int): Int = synchronized {
    val withdrawn = math.max(0, math.min(count, _pending))
    _pending -= withdrawn
    _target -= withdrawn
    askedTotal -= withdrawn
    withdrawn
  }

  /** A container was granted: true if it should be launched, false if surplus. */
  def allocated(id: String, node: String, nodeHttp: String, memoryMb: Long, vcores: Int): Boolean = synchronized {
    if (_pending <= 0) false
    else {
      _pending -= 1
      lastProgress = now()
      _workers(id) = Worker(id, node, nodeHttp, memoryMb, vcores, "ALLOCATED")
      true
    }
  }

  /** A container of an earlier attempt, still running, taken over by this one. */
  def adopt(id: String, node: String, nodeHttp: String, memoryMb: Long, vcores: Int): Unit = synchronized {
    _workers(id) = Worker(id, node, nodeHttp, memoryMb, vcores, "RUNNING", startedMs = 0)
  }

  def started(id: String): Unit = synchronized {
    _workers.get(id).foreach(w => if (w.state == "ALLOCATED") { w.state = "RUNNING"; w.startedMs = now() })
  }

  /** Start failures in a row so far (what `maxStartFailures` limits). */
  def startFailures: Int = synchronized(startFailuresInARow)

  /** Count a failure of `w` as a start failure or not; true if the loop limit is reached. */
  private def crashLoop(w: Worker): Boolean = {
    val at = now()
    def ranPastGrace(x: Worker) = x.startedMs >= 0 && {
      val healthyAt = x.startedMs + startGraceMs
      healthyAt <= (if (x.endedMs >= 0) x.endedMs else at) && healthyAt > lastStartFailureMs
    }
    if (w.startedMs >= 0 && at - w.startedMs >= startGraceMs) startFailuresInARow = 0
    else {
      if (_workers.values.exists(ranPastGrace)) startFailuresInARow = 0
      startFailuresInARow += 1
      lastStartFailureMs = at
    }
    maxStartFailures > 0 && startFailuresInARow >= maxStartFailures
  }

  /** A container ended; true if it must be replaced (a failure within the restart policy). */
  def completed(id: String, reportedStatus: Int, diagnostics: String): Boolean = synchronized {
    // A command that never ran (bash could not even start) is a failure, whatever the
    // exit status the NodeManager reports with it (it has reported 0).
    val exitStatus =
      if (reportedStatus == 0 && ContainerTracker.neverRan(diagnostics)) ContainerTracker.LaunchFailed
      else reportedStatus
    _workers.get(id) match {
      case Some(w) if w.state == "ALLOCATED" || w.state == "RUNNING" =>
        w.exitStatus = Some(exitStatus)
        w.diagnostics = diagnostics
        w.endedMs = now()
        if (removedByUser(id)) { w.state = "REMOVED"; dropOldEnded(); false }
        else {
          w.state = "COMPLETE"
          dropOldEnded()
          if (exitStatus == 0) { _target -= 1; false }
          else if (crashLoop(w)) {
            _target -= 1
            if (_fatal.isEmpty)
              _fatal = Some(s"$startFailuresInARow containers in a row failed within " +
                s"${startGraceMs / 1000} s of starting, the last ${describe(w)}; stopped replacing them " +
                "(their logs say why: `knit logs <app>`)")
            false
          }
          else if (maxRestarts < 0 || _restarts < maxRestarts) {
            _restarts += 1
            _pending += 1
            askedTotal += 1
            lastProgress = now()
            true
          } else {
            _target -= 1
            if (_fatal.isEmpty && (maxRestarts > 0 || failWithoutRestarts))
              _fatal = Some(s"${describe(w)}; no restart left (max_restarts=$maxRestarts, used ${_restarts})")
            false
          }
        }
      case _ => false
    }
  }

  /** Mark a live container as being removed on request (it leaves the target). */
  def remove(id: String): Boolean = synchronized {
    _workers.get(id) match {
      case Some(w) if (w.state == "ALLOCATED" || w.state == "RUNNING") && !removedByUser(id) =>
        removedByUser += id
        _target -= 1
        true
      case _ => false
    }
  }

  /** Live containers not being removed, newest first: what a scale-down stops. */
  def removable: Seq[Worker] = synchronized(liveUnlocked.filterNot(w => removedByUser(w.id)).reverse)

  def live: Seq[Worker] = synchronized(liveUnlocked)

  private def liveUnlocked: Seq[Worker] =
    _workers.values.filter(w => w.state == "ALLOCATED" || w.state == "RUNNING").toSeq

  def failures: Seq[Worker] =
    synchronized(_workers.values.filter(w => w.state == "COMPLETE" && !w.exitStatus.contains(0)).toSeq)

  private def ended(w: Worker): Boolean = w.state == "COMPLETE" || w.state == "REMOVED"

  /** Forget the oldest ended containers beyond KeepEnded, keeping their counts (and the
    * first failures' descriptions), so a long-lived service's report stays small. */
  private def dropOldEnded(): Unit = {
    val endedIds = _workers.valuesIterator.filter(ended).map(_.id).toSeq
    endedIds.take(endedIds.size - ContainerTracker.KeepEnded).foreach { id =>
      val w = _workers.remove(id).get
      endedDropped += 1
      if (w.state == "COMPLETE") completeDropped += 1
      if (removedByUser.remove(id)) removedDropped += 1
      if (w.state == "COMPLETE" && !w.exitStatus.contains(0)) {
        failuresDroppedCount += 1
        if (failuresDropped.size < ContainerTracker.KeepEnded) failuresDropped += describe(w)
      }
    }
  }

  /** A job is done when nothing is left to run: no target, no ask, no live container. */
  def isDone: Boolean = synchronized(_target <= 0 && _pending == 0 && liveUnlocked.isEmpty &&
    (_workers.nonEmpty || endedDropped > 0))

  /** Asks outstanding for longer than `timeoutMs` without any grant. */
  def allocationStalled(timeoutMs: Long): Boolean = synchronized(_pending > 0 && now() - lastProgress > timeoutMs)

  def granted: Int = synchronized(askedTotal - _pending)

  def asked: Int = synchronized(askedTotal)

  def progress: Float = synchronized {
    if (askedTotal == 0) 0f
    else (_workers.values.count(ended) + endedDropped).toFloat / askedTotal
  }

  private def describe(w: Worker): String =
    s"${w.id} on ${w.node} exit code ${w.exitStatus.getOrElse("?")}" +
      (if (w.diagnostics.trim.nonEmpty) s" (${w.diagnostics.trim.linesIterator.next().take(200)})" else "")

  /** (succeeded?, diagnostics) for unregistering. */
  def summary: (Boolean, String) = synchronized {
    val failed = failuresDropped.toSeq ++ failures.map(describe)
    val failedCount = failuresDroppedCount + failures.size
    val counts = s"total=${_workers.size + endedDropped}, " +
      s"completed=${_workers.values.count(_.state == "COMPLETE") + completeDropped}, " +
      s"removed=${removedByUser.size + removedDropped}, failed=$failedCount, restarts=${_restarts}"
    if (failedCount <= _restarts) (true, s"all containers succeeded ($counts)")
    else (false, s"$counts; failed containers: " + failed.mkString("; "))
  }
}

object ContainerTracker {
  /** Ended containers (complete or removed) kept in the report, the newest. */
  val KeepEnded: Int = 100

  /** The exit status knit records for a container whose command could not be started. */
  val LaunchFailed: Int = -1

  private val NeverRanMarks = Seq("Cannot run program", "Argument list too long", "error=7,")

  /** Whether YARN's diagnostics say the container's process could not be started. */
  def neverRan(diagnostics: String): Boolean = NeverRanMarks.exists(diagnostics.contains)
}
