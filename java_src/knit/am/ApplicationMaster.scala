package knit.am

import knit.contract._

import java.net.InetAddress
import java.nio.ByteBuffer
import java.nio.charset.StandardCharsets.UTF_8
import java.util.{Base64, List => JList}

import scala.jdk.CollectionConverters._

import org.apache.hadoop.fs.{FileSystem, Path}
import org.apache.hadoop.fs.permission.FsPermission
import org.apache.hadoop.yarn.api.ApplicationConstants
import org.apache.hadoop.yarn.api.ApplicationConstants.Environment
import org.apache.hadoop.yarn.api.records._
import org.apache.hadoop.yarn.client.api.AMRMClient.ContainerRequest
import org.apache.hadoop.yarn.client.api.NMClient
import org.apache.hadoop.yarn.client.api.async.{AMRMClientAsync, NMClientAsync}
import org.apache.hadoop.yarn.conf.YarnConfiguration
import org.apache.hadoop.yarn.util.Records

/** knit's ApplicationMaster: runs one shell command in a target number of containers.
  *
  * Lifecycle: read the launch contract -> register -> ask for the target -> launch
  * each granted container -> replace failed ones within the restart policy ->
  * unregister SUCCEEDED when every container exited 0 (or was replaced), FAILED with
  * the containers and exit codes otherwise. The target, asks and a small key-value
  * store are changed through [[ControlServer]], and saved in HDFS so that a new
  * attempt (after this one crashed) takes over the running containers where it left.
  *
  * With keep-alive (a service such as a Dask cluster) it runs until killed, however
  * many containers are left; with a client timeout it ends FAILED when the client
  * has not called the control endpoint for that long (its process is gone), so no
  * application outlives its client.
  */
object ApplicationMaster {
  def main(args: Array[String]): Unit = {
    // The JVM reads only /etc/krb5.conf by itself; KRB5_CONFIG is what MIT tools read.
    sys.env.get("KRB5_CONFIG").filter(_ => System.getProperty("java.security.krb5.conf") == null)
      .foreach(System.setProperty("java.security.krb5.conf", _))
    val conf = new YarnConfiguration()
    val (contractText, secret) = LaunchContract.fromContainerTokens(conf).getOrElse {
      val contractFile = sys.env(LaunchContract.ContractVar) // the same, in HDFS
      (LaunchContract.readFile(conf, contractFile),
        LaunchContract.readFile(conf, contractFile.stripSuffix(".launch.json") + ".secret"))
    }
    val am = new ApplicationMaster(LaunchContract.fromJson(contractText), secret.trim, conf)
    val exitCode = try am.run() catch {
      case e: Throwable =>
        System.err.println(s"knit ApplicationMaster failed: $e")
        e.printStackTrace()
        1
    }
    sys.exit(exitCode)
  }

  /** Most containers one control call may ask for: more is a mistake, not a plan. */
  val MaxAskPerCall = 10000
}

final class ApplicationMaster(contract: LaunchContract, secret: String, conf: YarnConfiguration) {
  private val spec = contract.workers
  private val tracker = new ContainerTracker(spec.maxRestarts, maxStartFailures = spec.maxStartFailures,
    startGraceMs = spec.startGraceMs)
  private val done = new Object
  @volatile private var shutdownRequested = false
  private val amContainer = sys.env(Environment.CONTAINER_ID.name)
  private val attemptId = ContainerId.fromString(amContainer).getApplicationAttemptId
  private val appId = attemptId.getApplicationId.toString
  private val fastHeartbeatMs = 100
  private val idleHeartbeatMs = 1000
  private val priority = Priority.newInstance(spec.priority)
  private val locality = new Locality(spec.nodes)
  private val defaultCapability = Resource.newInstance(spec.memoryMb.toLong, spec.vcores)
  @volatile private var maxCapability = Resource.newInstance(Long.MaxValue, Int.MaxValue)

  private val rm = AMRMClientAsync.createAMRMClientAsync[ContainerRequest](fastHeartbeatMs, new RMCallbacks)
  private val nm = NMClientAsync.createNMClientAsync(new NMCallbacks)
  private val adoptedStopper = NMClient.createNMClient()
  private val state = new StateStore(conf, s"${contract.recordsFolder}/$appId.am.json")
  private val kv = new KeyValueStore(() => state.markDirty())
  @volatile private var stalledMessage = ""
  private val events = new EventLog()
  private lazy val pageProxyFrom = StatusPage.proxyAddresses(key => Option(conf.get(key)))
  private lazy val pageProxyUrl = StatusPage.proxyUrl(key => Option(conf.get(key)), appId)
  @volatile private var control: ControlServer = _
  @volatile private var launcher: ContainerLauncher = _

  def run(): Int = {
    val jvmStart = java.time.Instant.ofEpochMilli(java.lang.management.ManagementFactory.getRuntimeMXBean.getStartTime)
    log(s"starting $attemptId (JVM started $jvmStart): ${spec.target} containers of ${spec.memoryMb} MB, " +
      s"${spec.vcores} vcores, max_restarts=${spec.maxRestarts}")
    log(ClassDataSharing.describe())
    rm.init(conf)
    rm.start()
    nm.init(conf)
    nm.start()
    adoptedStopper.init(conf)
    adoptedStopper.start()
    val host = sys.env.getOrElse(Environment.NM_HOST.name, InetAddress.getLocalHost.getHostName)
    control = new ControlServer(host, secret, new Actions)
    val port = control.port
    // Only workers with key-value access receive the secret's file (a look in HDFS).
    def secretFile = Resources.describe(conf, LaunchContract.SecretName,
      s"${contract.recordsFolder}/$appId.secret", "FILE", "PRIVATE")
    startTokenRefresher()
    launcher = new ContainerLauncher(spec, secretFile, s"$host:$port", contract.acls)
    val firstAttempt = attemptId.getAttemptId == 1
    // Asks queued before registering are granted sooner (Python checked their size).
    if (firstAttempt && spec.target > 0) requestContainers(spec.target, defaultCapability)
    // The tracking URL: YARN's UI links to the status page through its proxy.
    val registration = rm.registerApplicationMaster(host, port, s"http://$host:$port/")
    maxCapability = registration.getMaximumResourceCapability
    log(s"registered; control endpoint on $host:$port, status page $pageProxyUrl")
    events.add(s"attempt ${attemptId.getAttemptId} registered; target ${tracker.target}")
    if (!firstAttempt) resume(registration.getContainersFromPreviousAttempts.asScala.toSeq)
    state.markDirty()
    control.start() // served once the state is whole (a later attempt has taken over)
    waitUntilDone()
    val (succeeded, diagnostics) = tracker.summary
    val (status, text) =
      if (shutdownRequested) (FinalApplicationStatus.KILLED, "the ResourceManager asked us to shut down")
      else if (stalledMessage.nonEmpty) (FinalApplicationStatus.FAILED, stalledMessage)
      else if (succeeded) (FinalApplicationStatus.SUCCEEDED, diagnostics)
      else (FinalApplicationStatus.FAILED, diagnostics)
    log(s"finishing $status: $text")
    control.stop()
    if (refresher != null) refresher.stop()
    rm.unregisterApplicationMaster(status, text, "")
    nm.stop()
    adoptedStopper.stop()
    rm.stop()
    if (status == FinalApplicationStatus.SUCCEEDED) 0 else 1
  }

  @volatile private var refresher: TokenRefresher = _

  /** With a keytab from the client, keep delegation tokens fresh for new containers. */
  private def startTokenRefresher(): Unit = if (contract.kerberosPrincipal.nonEmpty) {
    val keytab = Tokens.fetchKeytab(conf, s"${contract.recordsFolder}/$appId${LaunchContract.KeytabSuffix}",
      java.nio.file.Paths.get("knit.keytab").toAbsolutePath)
    refresher = new TokenRefresher(conf, contract.kerberosPrincipal, keytab.toString, log)
    refresher.start()
    log(s"renewing delegation tokens as ${contract.kerberosPrincipal} from its keytab")
  }

  /** A later attempt: take over the containers still running and ask for what the target lacks. */
  private def resume(running: Seq[Container]): Unit = {
    val saved = state.load()
    tracker.restore(saved.target.getOrElse(spec.target), saved.restarts)
    kv.restore(saved.kv)
    running.foreach { c =>
      tracker.adopt(c.getId.toString, c.getNodeId.toString, c.getNodeHttpAddress,
        c.getResource.getMemorySize, c.getResource.getVirtualCores)
    }
    val missing = tracker.requestMissing()
    log(s"took over ${running.size} running container(s) of the previous attempt; " +
      s"target ${tracker.target}, asking for $missing more")
    events.add(s"took over ${running.size} running container(s) of the previous attempt; asking for $missing more")
    asks.synchronized(ask(missing, defaultCapability))
    if (missing > 0) rm.setHeartbeatInterval(fastHeartbeatMs)
    state.markDirty()
  }

  private def finished: Boolean = !contract.keepAlive && tracker.isDone

  private def clientGone: Boolean =
    contract.clientTimeoutMs > 0 && control.clientGone(contract.clientTimeoutMs)

  private def waitUntilDone(): Unit = done.synchronized {
    while (!finished && !shutdownRequested && stalledMessage.isEmpty) {
      done.wait(500)
      state.saveIfDirty(tracker.target, tracker.restarts, kv.snapshot)
      tracker.fatal.foreach(why => stalledMessage = why)
      if (clientGone)
        stalledMessage = s"the client has not contacted the ApplicationMaster for " +
          s"${contract.clientTimeoutMs / 1000} s (its process ended?); stopping so the application is not orphaned"
      // A service waits for its asks (withdrawn or granted later); a job fails.
      if (!contract.keepAlive && tracker.allocationStalled(contract.allocationTimeoutMs))
        stalledMessage = s"YARN granted ${tracker.granted} of ${tracker.asked} containers " +
          s"(${spec.memoryMb} MB, ${spec.vcores} vcores each) within " +
          s"${contract.allocationTimeoutMs / 1000} s; the queue or cluster lacks room: " +
          "ask for fewer or smaller containers, or another queue"
    }
  }

  private def wake(): Unit = done.synchronized(done.notifyAll())

  /** Why YARN would refuse a container of this size, if it would. */
  private def tooBig(capability: Resource): Option[String] = {
    val max = maxCapability
    if (capability.getMemorySize > max.getMemorySize)
      Some(s"a container of ${capability.getMemorySize} MB is more than the scheduler's maximum " +
        s"of ${max.getMemorySize} MB; ask for less memory")
    else if (capability.getVirtualCores > max.getVirtualCores)
      Some(s"a container of ${capability.getVirtualCores} vcores is more than the scheduler's maximum " +
        s"of ${max.getVirtualCores}; ask for fewer virtual_cores")
    else None
  }

  /** Guards every change of the asks held by the AMRM client: the callback thread
    * reads them while control requests add and withdraw. */
  private val asks = new Object
  /** Sizes asked for so far: how outstanding asks are found to withdraw them. */
  private val askedCapabilities = scala.collection.mutable.LinkedHashSet[Resource]()

  /** Queue `count` asks with the AMRM client, naming nodes as [[Locality]] plans
    * them (callers hold `asks`). */
  private def ask(count: Int, capability: Resource): Unit = {
    val held = tracker.live.groupBy(w => NodeId.fromString(w.node).getHost).map { case (h, ws) => h -> ws.size }
    askedCapabilities += capability
    locality.plan(count, held).foreach { node =>
      rm.addContainerRequest(new ContainerRequest(capability, node.map(Array(_)).orNull, null, priority))
    }
  }

  /** The ask a granted container answers: one naming its node if there is one, else
    * any it fits in (the granted capability may be rounded up). */
  private def matchingAsk(c: Container): Option[ContainerRequest] = {
    def at(where: String) =
      rm.getMatchingRequests(c.getPriority, where, c.getResource).asScala.iterator.flatMap(_.asScala)
    at(c.getNodeId.getHost).nextOption().orElse(at(ResourceRequest.ANY).nextOption())
  }

  private def requestContainers(count: Int, capability: Resource): Unit = {
    asks.synchronized {
      tracker.request(count)
      ask(count, capability)
    }
    rm.setHeartbeatInterval(fastHeartbeatMs)
    state.markDirty()
  }

  private def replace(capability: Resource): Unit = {
    asks.synchronized(ask(1, capability))
    rm.setHeartbeatInterval(fastHeartbeatMs)
    state.markDirty()
  }

  private def outstandingAsks(): List[ContainerRequest] =
    askedCapabilities.toList.reverse
      .flatMap(cap => rm.getMatchingRequests(priority, ResourceRequest.ANY, cap).asScala.flatMap(_.asScala).toList)
      .distinct

  private def withdrawContainers(count: Int): Int = {
    val withdrawn = asks.synchronized {
      val n = tracker.withdraw(count)
      outstandingAsks().take(n).foreach(rm.removeContainerRequest)
      n
    }
    if (tracker.pending == 0) rm.setHeartbeatInterval(idleHeartbeatMs)
    state.markDirty()
    withdrawn
  }

  private def removeContainer(id: String): Boolean = {
    val worker = if (tracker.remove(id)) tracker.worker(id) else None
    worker.foreach { w =>
      val (id, node) = (ContainerId.fromString(w.id), NodeId.fromString(w.node))
      if (launcher.launched(w.id)) nm.stopContainerAsync(id, node)
      else {
        // Adopted from an earlier attempt: the asynchronous NM client ignores containers
        // it did not start; the synchronous one stops any (with the NM tokens the
        // registration passed on), and the ResourceManager is told to release it too.
        try adoptedStopper.stopContainer(id, node)
        catch { case e: Exception => log(s"stopping adopted $id at its NodeManager failed: $e") }
        rm.releaseAssignedContainer(id)
      }
      state.markDirty()
    }
    worker.nonEmpty
  }

  /** Set the target: ask for the missing, withdraw asks, then stop the newest containers. */
  private def scaleTo(n: Int, capability: Resource): String = {
    val current = tracker.removable.size + tracker.pending // not counting those being stopped
    if (n > current) requestContainers(n - current, capability)
    else if (n < current) {
      var surplus = current - n
      surplus -= withdrawContainers(surplus)
      tracker.removable.take(surplus).foreach(w => removeContainer(w.id))
    }
    log(s"target set to $n (was $current)")
    events.add(s"target set to $n (was $current)")
    ControlReplies.target(tracker.target)
  }

  private def log(message: String): Unit = println(s"${java.time.Instant.now} knit-am: $message")

  /** Logs the first and the last container granted and started of each burst of asks
    * (what `benchmarks/launch_latency.py --trace` reads). */
  private object milestones {
    private var grants, starts = 0
    def granted(count: Int, pending: Int): Unit = synchronized {
      if (grants == 0) log(s"first container(s) granted: $count")
      grants += count
      if (pending == 0) { log(s"all asked containers granted: $grants"); grants = 0 }
    }
    /** `waiting`: granted containers not started yet, of every burst. */
    def started(pending: Int, waiting: Int): Unit = synchronized {
      if (starts == 0) log("first container started")
      starts += 1
      if (pending == 0 && waiting == 0) { log(s"all granted containers started: $starts"); starts = 0 }
    }
  }

  private final class RMCallbacks extends AMRMClientAsync.AbstractCallbackHandler {
    override def onContainersAllocated(containers: JList[Container]): Unit = {
      containers.asScala.foreach(allocated)
      if (!containers.isEmpty) milestones.granted(containers.size, tracker.pending)
    }

    private def allocated(c: Container): Unit = {
      val launch = tracker.allocated(c.getId.toString, c.getNodeId.toString,
        c.getNodeHttpAddress, c.getResource.getMemorySize, c.getResource.getVirtualCores)
      if (launch) {
        events.add(s"${c.getId} granted on ${c.getNodeId}")
        asks.synchronized(matchingAsk(c).foreach(rm.removeContainerRequest))
        nm.startContainerAsync(c, launcher.context(c))
      } else rm.releaseAssignedContainer(c.getId)
      if (tracker.pending == 0) rm.setHeartbeatInterval(idleHeartbeatMs)
    }

    override def onContainersCompleted(statuses: JList[ContainerStatus]): Unit = {
      statuses.asScala.foreach { s =>
        val id = s.getContainerId.toString
        log(s"$id exited with ${s.getExitStatus} ${s.getDiagnostics.trim.take(200)}")
        val capability = tracker.worker(id).map(w => Resource.newInstance(w.memoryMb, w.vcores))
        // (A surplus grant released at once is no container of ours.)
        if (capability.nonEmpty) events.add(s"$id exited with status ${s.getExitStatus}")
        if (tracker.completed(id, s.getExitStatus, s.getDiagnostics)) {
          log(s"replacing $id (restart ${tracker.restarts} of ${if (spec.maxRestarts < 0) "unlimited" else spec.maxRestarts})")
          events.add(s"$id failed; asking for a replacement (restart ${tracker.restarts})")
          replace(capability.getOrElse(defaultCapability))
        }
        state.markDirty()
      }
      wake()
    }

    override def onContainersUpdated(containers: JList[UpdatedContainer]): Unit = ()

    override def onShutdownRequest(): Unit = { shutdownRequested = true; wake() }

    override def onNodesUpdated(reports: JList[NodeReport]): Unit = reports.asScala.foreach { r =>
      val host = r.getNodeId.getHost
      if (r.getNodeState == NodeState.RUNNING) {
        val (total, used) = (r.getCapability, Option(r.getUsed).getOrElse(Resource.newInstance(0L, 0)))
        val free = math.min((total.getMemorySize - used.getMemorySize) / math.max(1, spec.memoryMb),
          ((total.getVirtualCores - used.getVirtualCores) / math.max(1, spec.vcores)).toLong).toInt
        val held = tracker.live.count(w => NodeId.fromString(w.node).getHost == host)
        locality.update(host, math.max(0, free) + held)
      } else {
        locality.forget(host)
        events.add(s"node $host is ${r.getNodeState}: asks no longer name it")
      }
    }

    override def getProgress: Float = tracker.progress

    override def onError(e: Throwable): Unit = {
      log(s"ResourceManager error: $e")
      stalledMessage = s"the ResourceManager refused the ApplicationMaster: $e"
      wake()
    }
  }

  private final class NMCallbacks extends NMClientAsync.AbstractCallbackHandler {
    override def onContainerStarted(id: ContainerId, serviceData: java.util.Map[String, ByteBuffer]): Unit = {
      tracker.started(id.toString)
      events.add(s"$id started")
      milestones.started(tracker.pending, tracker.workers.values.count(_.state == "ALLOCATED"))
    }

    override def onStartContainerError(id: ContainerId, t: Throwable): Unit = {
      events.add(s"$id could not be launched: $t")
      if (tracker.completed(id.toString, -1, s"launch failed: $t")) replace(defaultCapability)
      wake()
    }

    override def onContainerStatusReceived(id: ContainerId, status: ContainerStatus): Unit = ()
    override def onContainerStopped(id: ContainerId): Unit = ()
    override def onGetContainerStatusError(id: ContainerId, t: Throwable): Unit = ()
    override def onStopContainerError(id: ContainerId, t: Throwable): Unit = log(s"stopping $id failed: $t")
    override def onContainerResourceIncreased(id: ContainerId, r: Resource): Unit = ()
    override def onIncreaseContainerResourceError(id: ContainerId, t: Throwable): Unit = ()
    override def onContainerResourceUpdated(id: ContainerId, r: Resource): Unit = ()
    override def onUpdateContainerResourceError(id: ContainerId, t: Throwable): Unit = ()
  }

  private final class Actions extends ControlServer.Actions {
    def list(): String = ControlReplies.report(tracker, amContainer, attemptId.getAttemptId, spec.maxRestarts)

    private def capability(memoryMb: Option[Int], vcores: Option[Int]): Either[String, Resource] = {
      val c = Resource.newInstance(memoryMb.getOrElse(spec.memoryMb).toLong, vcores.getOrElse(spec.vcores))
      if (c.getMemorySize < 1 || c.getVirtualCores < 1) Left("memory and vcores must be at least 1")
      else tooBig(c).toLeft(c)
    }

    def add(count: Int, memoryMb: Option[Int], vcores: Option[Int]): (Int, String) =
      if (count < 1 || count > ApplicationMaster.MaxAskPerCall)
        (400, ControlReplies.error(s"count must be between 1 and ${ApplicationMaster.MaxAskPerCall}, not $count"))
      else capability(memoryMb, vcores) match {
        case Left(why) => (400, ControlReplies.error(why))
        case Right(c) => requestContainers(count, c); (200, ControlReplies.asked(count, tracker.target))
      }

    def scale(target: Int, memoryMb: Option[Int], vcores: Option[Int]): (Int, String) =
      if (target < 0 || target > ApplicationMaster.MaxAskPerCall)
        (400, ControlReplies.error(s"target must be between 0 and ${ApplicationMaster.MaxAskPerCall}, not $target"))
      else capability(memoryMb, vcores) match {
        case Left(why) => (400, ControlReplies.error(why))
        case Right(c) => (200, scaleTo(target, c))
      }

    def withdraw(count: Int): String = {
      val withdrawn = withdrawContainers(count)
      log(s"withdrew $withdrawn container ask(s)")
      events.add(s"withdrew $withdrawn container ask(s)")
      ControlReplies.withdrawn(withdrawn)
    }

    def remove(id: String): (Int, String) =
      if (id == amContainer) (400, ControlReplies.ownContainer(id))
      else if (removeContainer(id)) { events.add(s"$id stopped on request"); (200, ControlReplies.removed(id)) }
      else (404, ControlReplies.notLive(id))

    def keyValues: KeyValueStore = kv

    def statusPage(): String = StatusPage.render(StatusPage.View(
      appId, attemptId.getAttemptId, sys.env.getOrElse("USER", ""), tracker.target, tracker.pending,
      tracker.restarts, spec.maxRestarts,
      tracker.workers.values.toSeq.map(w => StatusPage.Row(w.id, w.state, w.node, w.nodeHttp, w.memoryMb,
        w.vcores, w.exitStatus, w.diagnostics)),
      events.recent))

    def servesPageTo(address: java.net.InetAddress): Boolean = pageProxyFrom.contains(address)

    def pageProxyUrl: String = ApplicationMaster.this.pageProxyUrl

    def mayView(user: Option[String]): Boolean = StatusPage.mayView(user,
      owner = sys.env.getOrElse("USER", ""), viewAcl = contract.acls.get("VIEW_APP"),
      adminAcl = conf.get("yarn.admin.acl", "*"), aclsEnabled = conf.getBoolean("yarn.acl.enable", false),
      groups = u => org.apache.hadoop.security.Groups.getUserToGroupsMappingService(conf).getGroupsSet(u).asScala.toSet)
  }
}
