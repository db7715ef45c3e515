package knit.am

import knit.contract._

/** The bodies the control endpoint answers with, one function per reply, so their
  * keys are written once (tests/data/control_api.json pins them against knit's
  * Python client, `knit/am_client.py`).
  */
object ControlReplies {
  /** `GET /containers`: the whole report. */
  def report(tracker: ContainerTracker, amContainer: String, attempt: Int, maxRestarts: Int): String =
    Json.obj(
      "am" -> amContainer,
      "attempt" -> attempt,
      "pending" -> tracker.pending,
      "target" -> tracker.target,
      "restarts" -> tracker.restarts,
      "max_restarts" -> maxRestarts,
      "ended_not_listed" -> tracker.endedNotListed,
      "containers" -> tracker.workers.values.toSeq.sortBy(_.id).map(w => Map(
        "id" -> w.id, "state" -> w.state, "node" -> w.node, "nodeHttpAddress" -> w.nodeHttp,
        "memoryMb" -> w.memoryMb, "vcores" -> w.vcores, "exitStatus" -> w.exitStatus)))

  /** `PUT /containers/target`. */
  def target(target: Int): String = Json.obj("target" -> target)

  /** `POST /containers`. */
  def asked(requested: Int, target: Int): String = Json.obj("requested" -> requested, "target" -> target)

  /** `DELETE /containers/pending`. */
  def withdrawn(count: Int): String = Json.obj("withdrawn" -> count)

  /** `DELETE /containers/ID`. */
  def removed(id: String): String = Json.obj("removed" -> id)

  /** `POST /heartbeat`. */
  val alive: String = Json.obj("alive" -> true)

  /** Any refusal (4xx) or failure (5xx). */
  def error(message: String): String = Json.obj("error" -> message)

  /** `DELETE /containers/ID` of the ApplicationMaster's own container (400). */
  def ownContainer(id: String): String = error(s"$id is the ApplicationMaster's own container: " +
    "removing it would end the application; remove a worker container, or kill() the application")

  /** `DELETE /containers/ID` of no live worker (404). */
  def notLive(id: String): String = error(s"$id is not a live container of this application")
}
