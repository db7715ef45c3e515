package knit.am

import knit.contract._

/** The bodies the control endpoint answers with, one function per reply, so their
  * keys are written once (tests/data/control_api.json pins them against knit's
  * Python client, `knit/am_client.py`).
  */
object ControlReplies {
  /** `GET /containers`: the whole report, of services given as (name, tracker,
    * max_restarts), the first one's first, and the ApplicationMaster's own container
    * and node (its NodeManager's address and web address). The top-level counts are the sums over the
    * services (`max_restarts` is the first service's); `services` has each one's. */
  def report(services: Seq[(String, ContainerTracker, Int)], amContainer: String, attempt: Int,
             amNode: String = "", amNodeHttp: String = ""): String =
    Json.obj(
      "am" -> amContainer,
      "am_node" -> amNode,
      "am_node_http" -> amNodeHttp,
      "attempt" -> attempt,
      "pending" -> services.map(_._2.pending).sum,
      "target" -> services.map(_._2.target).sum,
      "restarts" -> services.map(_._2.restarts).sum,
      "max_restarts" -> services.head._3,
      "ended_not_listed" -> services.map(_._2.endedNotListed).sum,
      "services" -> services.map { case (name, t, maxRestarts) => name -> Map(
        "target" -> t.target, "pending" -> t.pending, "restarts" -> t.restarts, "max_restarts" -> maxRestarts,
        "ended_not_listed" -> t.endedNotListed)
      }.toMap,
      "containers" -> services.flatMap { case (name, t, _) => t.workers.values.toSeq.map(w => name -> w) }
        .sortBy(_._2.id).map { case (name, w) => Map(
          "id" -> w.id, "service" -> name, "state" -> w.state, "node" -> w.node, "nodeHttpAddress" -> w.nodeHttp,
          "memoryMb" -> w.memoryMb, "vcores" -> w.vcores, "exitStatus" -> w.exitStatus)
        })

  /** `POST /shutdown`. */
  def shuttingDown(status: String): String = Json.obj("status" -> status)

  /** `PUT /progress`. */
  def progress(value: Double): String = Json.obj("progress" -> value)

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
