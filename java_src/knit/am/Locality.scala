package knit.am

/** Where to ask for containers. The CapacityScheduler grants at most one container
  * per node heartbeat to an ask that names no node (off-switch), but every node-local
  * ask of a node at once; so a burst of asks larger than the cluster's node count is
  * spread over the nodes with room, each ask naming one node (locality stays relaxed:
  * YARN may still grant it elsewhere). A burst no larger than the node count names no
  * node: any node's next heartbeat serves it, sooner than a named node's would.
  *
  * @param room how many containers of the workers' size each node could hold when the
  *             client submitted (host -> count), as the client saw it
  */
final class Locality(room: Map[String, Int]) {
  private val hosts = room.filter(_._2 > 0).keys.toSeq.sorted

  /** The node to name for each of `count` new asks (None: no node), given how many
    * live containers the application holds on each host. */
  def plan(count: Int, held: Map[String, Int]): Seq[Option[String]] =
    if (hosts.isEmpty || count <= hosts.size) Seq.fill(count)(None)
    else {
      val left = scala.collection.mutable.Map(hosts.map(h => h -> (room(h) - held.getOrElse(h, 0))): _*)
      Seq.fill(count) {
        val (host, free) = left.maxBy { case (h, n) => (n, h) }
        if (free <= 0) None else { left(host) = free - 1; Some(host) }
      }
    }
}

object Locality {
  /** No hints: every ask names no node. */
  val None = new Locality(Map.empty)
}
