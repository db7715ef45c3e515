package knit.am

import knit.contract._

import scala.jdk.CollectionConverters._

import org.apache.hadoop.yarn.api.records.{Container, ContainerId, ExecutionType, ExecutionTypeRequest, NodeId,
  Priority, Resource, ResourceRequest, ResourceSizing, SchedulingRequest}
import org.apache.hadoop.yarn.client.api.AMRMClient.ContainerRequest
import org.apache.hadoop.yarn.client.api.NMClient
import org.apache.hadoop.yarn.client.api.async.{AMRMClientAsync, NMClientAsync}

/** One service of the application: its containers' book-keeping ([[ContainerTracker]])
  * and its asks at the ResourceManager, under a priority of its own, by which a granted
  * container is known to be this service's.
  *
  * A service with `depends` is held back until each service it depends on has had all
  * the containers it asked for at its start running at once ([[hasStarted]]); then
  * [[begin]] asks for its own.
  *
  * @param name the service's name in the contract
  * @param spec what its containers are
  * @param launcher builds their launch contexts
  * @param rm the ApplicationMaster's ResourceManager client
  * @param nm starts and stops the containers this attempt launched
  * @param adoptedStopper stops containers an earlier attempt launched
  * @param changed marks the saved state stale (see [[StateStore]])
  * @param events the status page's event log
  */
final class ServiceRunner(val name: String, val spec: ServiceSpec, val launcher: ContainerLauncher,
                          rm: AMRMClientAsync[ContainerRequest], nm: NMClientAsync, adoptedStopper: NMClient,
                          changed: () => Unit, events: EventLog) {
  val tracker = new ContainerTracker(spec.maxRestarts, maxStartFailures = spec.maxStartFailures,
    startGraceMs = spec.startGraceMs, failWithoutRestarts = spec.failWithoutRestarts)
  val priority: Priority = Priority.newInstance(spec.priority)
  val defaultCapability: Resource = Capability(spec.memoryMb.toLong, spec.vcores, spec.extraResources)
  private val locality = new Locality(spec.room)
  /** Guards every change of the asks held by the AMRM client: the callback thread
    * reads them while control requests add and withdraw. */
  private val asks = new Object
  /** Sizes asked for so far: how outstanding asks are found to withdraw them. */
  private val askedCapabilities = scala.collection.mutable.LinkedHashSet[Resource]()
  /** Environment overrides for the next containers granted (`add` with `env`), in order. */
  private val overrides = new java.util.concurrent.ConcurrentLinkedQueue[Map[String, String]]()
  private val overridden = new java.util.concurrent.ConcurrentHashMap[String, Map[String, String]]()
  @volatile private var begun = false
  @volatile private var startedOnce = false

  /** Whether its asks were made (its dependencies had started, if it has any). */
  def isBegun: Boolean = begun

  /** Whether every container it asked for at its start has run (all at once): what
    * the services depending on it wait for. A service of no containers has started
    * once begun. */
  def hasStarted: Boolean = {
    if (!startedOnce && begun && tracker.pending == 0 && !tracker.live.exists(_.state == "ALLOCATED"))
      startedOnce = true
    startedOnce
  }

  /** Ask for the service's containers (the first attempt), or take up where an
    * earlier attempt left (`restored`: the target and restarts it had reached). */
  def begin(restored: Option[(Int, Int)] = None): Int = {
    begun = true
    restored match {
      case None =>
        if (spec.target > 0) request(spec.target, defaultCapability)
        spec.target
      case Some((target, restarts)) =>
        tracker.restore(target, restarts)
        val missing = tracker.requestMissing()
        asks.synchronized(ask(missing, defaultCapability))
        missing
    }
  }

  /** A later attempt's view: its dependencies were met already if it was begun. */
  def markStarted(): Unit = { begun = true; startedOnce = true }

  /** Whether this granted container answers one of this service's asks. */
  def owns(c: Container): Boolean = c.getPriority != null && c.getPriority.getPriority == spec.priority

  /** Nothing left to run: begun, no target, no ask, no live container. */
  def isIdle: Boolean = begun && tracker.target <= 0 && tracker.pending == 0 && tracker.live.isEmpty

  /** Why the application must fail because of this service, if it must. */
  def fatal: Option[String] = if (spec.allowFailures) None else tracker.fatal

  /** Whether its containers ended as they should (failures allowed, or within restarts). */
  def succeeded: Boolean = spec.allowFailures || tracker.summary._1

  /** Queue `count` asks with the AMRM client (callers hold `asks`): at the user's
    * nodes or racks if the service names any, else spread over the nodes as
    * [[Locality]] plans them, and under the service's node label if it has one. */
  private def ask(count: Int, capability: Resource): Unit = if (count > 0) {
    askedCapabilities += capability
    val label = if (spec.nodeLabel.isEmpty) null else spec.nodeLabel
    if (spec.onePerNode) rm.addSchedulingRequests(java.util.Collections.singletonList(apart(count, capability)))
    else if (spec.nodes.nonEmpty || spec.racks.nonEmpty || label != null) {
      val nodes = if (spec.nodes.isEmpty) null else spec.nodes.toArray
      val racks = if (spec.racks.isEmpty) null else spec.racks.toArray
      // (A label alone restricts nothing YARN calls locality: it must stay relaxed.)
      val relax = spec.relaxLocality || (nodes == null && racks == null)
      (0 until count).foreach(_ => rm.addContainerRequest(
        new ContainerRequest(capability, nodes, racks, priority, relax, label)))
    } else {
      val held = tracker.live.groupBy(w => NodeId.fromString(w.node).getHost).map { case (h, ws) => h -> ws.size }
      locality.plan(count, held).foreach { node =>
        rm.addContainerRequest(new ContainerRequest(capability, node.map(Array(_)).orNull, null, priority))
      }
    }
  }

  private val requestIds = new java.util.concurrent.atomic.AtomicLong(spec.priority.toLong << 32)

  /** `count` containers, none on a node that holds one of this service's already
    * (anti-affinity with its own allocation tag, which YARN's scheduler enforces:
    * `yarn.resourcemanager.placement-constraints.handler`). A withdrawn ask of such
    * a service stays at the ResourceManager; its late grant is released as surplus. */
  private def apart(count: Int, capability: Resource): SchedulingRequest = {
    import org.apache.hadoop.yarn.api.resource.PlacementConstraints
    val tag = s"knit-service-$name"
    SchedulingRequest.newBuilder()
      .allocationRequestId(requestIds.incrementAndGet())
      .priority(priority)
      .executionType(ExecutionTypeRequest.newInstance(ExecutionType.GUARANTEED, true))
      .allocationTags(java.util.Collections.singleton(tag))
      .resourceSizing(ResourceSizing.newInstance(count, capability))
      .placementConstraintExpression(PlacementConstraints.build(PlacementConstraints.targetNotIn(
        PlacementConstraints.NODE, PlacementConstraints.PlacementTargets.allocationTag(tag))))
      .build()
  }

  /** The ask a granted container answers: one naming its node if there is one, else
    * any it fits in (the granted capability may be rounded up). */
  private def matchingAsk(c: Container): Option[ContainerRequest] = {
    def at(where: String) =
      rm.getMatchingRequests(c.getPriority, where, c.getResource).asScala.iterator.flatMap(_.asScala)
    at(c.getNodeId.getHost).nextOption()
      .orElse(spec.racks.iterator.flatMap(at).nextOption())
      .orElse(at(ResourceRequest.ANY).nextOption())
  }

  def request(count: Int, capability: Resource, env: Map[String, String] = Map.empty): Unit = {
    asks.synchronized {
      if (env.nonEmpty) (0 until count).foreach(_ => overrides.add(env))
      tracker.request(count)
      ask(count, capability)
    }
    changed()
  }

  def replace(capability: Resource): Unit = {
    asks.synchronized(ask(1, capability))
    changed()
  }

  /** A container was granted: the launch context to start it with, or None if it is
    * surplus (and must be released). */
  def allocated(c: Container): Option[org.apache.hadoop.yarn.api.records.ContainerLaunchContext] = {
    val r = c.getResource
    if (!tracker.allocated(c.getId.toString, c.getNodeId.toString, c.getNodeHttpAddress, r.getMemorySize,
      r.getVirtualCores)) None
    else {
      asks.synchronized(matchingAsk(c).foreach(rm.removeContainerRequest))
      val env = Option(overrides.poll()).getOrElse(Map.empty)
      if (env.nonEmpty) overridden.put(c.getId.toString, env)
      Some(launcher.context(c, env))
    }
  }

  /** The overrides a replacement of container `id` keeps. */
  def overridesOf(id: String): Map[String, String] = Option(overridden.get(id)).getOrElse(Map.empty)

  /** Replace a failed container with one of the same size and environment. */
  def replaceAfter(id: String, capability: Resource): Unit = {
    val env = overridesOf(id)
    asks.synchronized {
      if (env.nonEmpty) overrides.add(env)
      ask(1, capability)
    }
    changed()
  }

  private def outstandingAsks(): List[ContainerRequest] =
    askedCapabilities.toList.reverse
      .flatMap(cap => rm.getMatchingRequests(priority, ResourceRequest.ANY, cap).asScala.flatMap(_.asScala).toList)
      .distinct

  def withdraw(count: Int): Int = {
    val withdrawn = asks.synchronized {
      val n = tracker.withdraw(count)
      outstandingAsks().take(n).foreach(rm.removeContainerRequest)
      n
    }
    changed()
    withdrawn
  }

  /** Stop one live container; whether it was one of this service's. */
  def remove(id: String): Boolean = {
    val worker = if (tracker.remove(id)) tracker.worker(id) else None
    worker.foreach { w =>
      val (cid, node) = (ContainerId.fromString(w.id), NodeId.fromString(w.node))
      if (launcher.launched(w.id)) nm.stopContainerAsync(cid, node)
      else {
        // Adopted from an earlier attempt: the asynchronous NM client ignores containers
        // it did not start; the synchronous one stops any (with the NM tokens the
        // registration passed on), and the ResourceManager is told to release it too.
        try adoptedStopper.stopContainer(cid, node)
        catch { case e: Exception => println(s"${java.time.Instant.now} knit-am: stopping adopted $cid failed: $e") }
        rm.releaseAssignedContainer(cid)
      }
      changed()
    }
    worker.nonEmpty
  }

  /** Set the target: ask for the missing, withdraw asks, then stop the newest containers. */
  def scaleTo(n: Int, capability: Resource): Int = {
    val current = tracker.removable.size + tracker.pending // not counting those being stopped
    if (n > current) request(n - current, capability)
    else if (n < current) {
      var surplus = current - n
      surplus -= withdraw(surplus)
      tracker.removable.take(surplus).foreach(w => remove(w.id))
    }
    events.add(s"$name: target set to $n (was $current)")
    tracker.target
  }

  /** The size of a container asked for with these parts changed (the rest the service's). */
  def capability(memoryMb: Option[Int], vcores: Option[Int]): Resource =
    Capability(memoryMb.map(_.toLong).getOrElse(spec.memoryMb.toLong),
      vcores.getOrElse(spec.vcores), spec.extraResources)

  /** How many more of its containers a node's free room holds. */
  def fitting(free: Resource): Long = {
    val byMemory = free.getMemorySize / math.max(1, spec.memoryMb)
    val byCores = (free.getVirtualCores / math.max(1, spec.vcores)).toLong
    spec.extraResources.filter(_._2 > 0).foldLeft(math.min(byMemory, byCores)) { case (n, (kind, count)) =>
      val has = try free.getResourceValue(kind) catch { case _: Exception => 0L }
      math.min(n, has / count)
    }
  }

  /** Note a node's room (from the ResourceManager's node reports). */
  def nodeRoom(host: String, free: Option[Resource]): Unit = free match {
    case Some(room) =>
      val held = tracker.live.count(w => NodeId.fromString(w.node).getHost == host)
      locality.update(host, math.max(0L, fitting(room)).toInt + held)
    case None => locality.forget(host)
  }
}
