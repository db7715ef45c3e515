package knit.am

/** Where to ask for containers. The CapacityScheduler grants at most one container
  * per node heartbeat to an ask that names no node (off-switch), but every node-local
  * ask of a node at once; so a burst of asks larger than the cluster's node count is
  * spread over the nodes with room, each ask naming one node (locality stays relaxed:
  * YARN may still grant it elsewhere). A burst no larger than the node count names no
  * node: any node's next heartbeat serves it, sooner than a named node's would.
  *
  * The room is kept fresh from the ResourceManager's node updates ([[update]],
  * [[forget]]): a node that is lost, unhealthy or decommissioned is no longer named,
  * and one that joins is.
  *
  * @param initial how many containers of the workers' size each node could hold when
  *                the client submitted (host -> count), as the client saw it
  */
final class Locality(initial: Map[String, Int]) {
  private val room = scala.collection.concurrent.TrieMap(initial.toSeq: _*)

  /** A node's room changed: it could hold `containers` of the application's (counting
    * those it holds there now). */
  def update(host: String, containers: Int): Unit =
    if (containers > 0) room(host) = containers else room.remove(host)

  /** A node left (lost, unhealthy, decommissioned): no ask names it. */
  def forget(host: String): Unit = room.remove(host)

  /** The nodes asks may name now, by name. */
  def hosts: Seq[String] = room.filter(_._2 > 0).keys.toSeq.sorted

  /** The node to name for each of `count` new asks (None: no node), given how many
    * live containers the application holds on each host. */
  def plan(count: Int, held: Map[String, Int]): Seq[Option[String]] = {
    val hosts = this.hosts
    if (hosts.isEmpty || count <= hosts.size) Seq.fill(count)(None)
    else {
      val left = scala.collection.mutable.Map(hosts.map(h => h -> (room.getOrElse(h, 0) - held.getOrElse(h, 0))): _*)
      Seq.fill(count) {
        val (host, free) = left.maxBy { case (h, n) => (n, h) }
        if (free <= 0) None else { left(host) = free - 1; Some(host) }
      }
    }
  }
}

object Locality {
  /** No hints: every ask names no node (until node updates give some). */
  def None: Locality = new Locality(Map.empty)
}
