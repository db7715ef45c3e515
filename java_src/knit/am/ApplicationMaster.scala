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

/** knit's ApplicationMaster: runs the contract's services, each a shell command in a
  * target number of containers ([[ServiceRunner]]), and the user's driver script
  * beside it if there is one ([[Driver]]).
  *
  * Lifecycle: read the launch contract -> register -> ask for each service's target
  * (a service that depends on others once they have started) -> launch each granted
  * container -> replace failed ones within the restart policy -> unregister SUCCEEDED
  * when every container exited 0 (or was replaced, or its service allows failures),
  * FAILED with the containers and exit codes otherwise. With a driver, its exit code
  * decides (0: SUCCEEDED); a `shutdown` call decides with the status it names. The target, asks and a small key-value
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
    QuickClose(conf)
    val (contractText, secret) = LaunchContract.fromContainerTokens(conf).getOrElse {
      val contractFile = sys.env(LaunchContract.ContractVar) // the same, in HDFS
      (LaunchContract.readFile(conf, contractFile),
        LaunchContract.readFile(conf, contractFile.stripSuffix(".launch.json") + ".secret"))
    }
    val contract = LaunchContract.fromJson(contractText)
    setLogLevel(contract.amLogLevel)
    val am = new ApplicationMaster(contract, secret.trim, conf)
    val exitCode = try am.run() catch {
      case e: Throwable =>
        System.err.println(s"knit ApplicationMaster failed: $e")
        e.printStackTrace()
        1
    }
    sys.exit(exitCode)
  }

  /** The level of the Hadoop libraries' logging in this JVM (log4j's root logger, as
    * Hadoop 3 ships it: reload4j, found by name so no log4j is needed to build). */
  def setLogLevel(level: String): Unit = try {
    val levelClass = Class.forName("org.apache.log4j.Level")
    val root = Class.forName("org.apache.log4j.Logger").getMethod("getRootLogger").invoke(null)
    val value = levelClass.getMethod("toLevel", classOf[String]).invoke(null, level)
    root.getClass.getMethod("setLevel", levelClass).invoke(root, value)
  } catch {
    case e: ReflectiveOperationException => System.err.println(s"knit-am: cannot set the log level $level: $e")
  }

  /** Most containers one control call may ask for: more is a mistake, not a plan. */
  val MaxAskPerCall = 10000
}

final class ApplicationMaster(contract: LaunchContract, secret: String, conf: YarnConfiguration) {
  private val done = new Object
  @volatile private var shutdownRequested = false
  /** The final status and diagnostics a `shutdown` call, or the driver's exit, asked for. */
  @volatile private var finishAs: Option[(FinalApplicationStatus, String)] = None
  /** Progress the user set (`set_progress`), else the containers' share done. */
  @volatile private var userProgress: Option[Float] = None
  private val amContainer = sys.env(Environment.CONTAINER_ID.name)
  private val attemptId = ContainerId.fromString(amContainer).getApplicationAttemptId
  // This container's node, as YARN names it (NodeId) and its NodeManager's web address.
  private val amNode = s"${sys.env.getOrElse(Environment.NM_HOST.name, "")}:${sys.env.getOrElse(Environment.NM_PORT.name, "")}"
  private val amNodeHttp = s"${sys.env.getOrElse(Environment.NM_HOST.name, "")}:${sys.env.getOrElse(Environment.NM_HTTP_PORT.name, "")}"
  private val appId = attemptId.getApplicationId.toString
  private val fastHeartbeatMs = 100
  private val idleHeartbeatMs = 1000
  @volatile private var maxCapability = Resource.newInstance(Long.MaxValue, Int.MaxValue)

  private val rm = AMRMClientAsync.createAMRMClientAsync[ContainerRequest](fastHeartbeatMs, new RMCallbacks)
  private val nm = NMClientAsync.createNMClientAsync(new NMCallbacks)
  private val adoptedStopper = NMClient.createNMClient()
  private val state = new StateStore(conf, s"${contract.recordsFolder}/$appId.am.json",
    attemptId.getAttemptId, log)
  // A key's change is journaled in HDFS before it is acknowledged: it outlives this attempt.
  private val kv = new KeyValueStore(state.record)
  @volatile private var stalledMessage = ""
  private val events = new EventLog()
  private lazy val pageProxyFrom = StatusPage.proxyAddresses(key => Option(conf.get(key)))
  private lazy val pageProxyUrl = StatusPage.proxyUrl(key => Option(conf.get(key)), appId)
  @volatile private var control: ControlServer = _
  @volatile private var runners: Seq[ServiceRunner] = Nil
  @volatile private var driver: Driver = _
  private val owner = sys.env.getOrElse("USER", "")

  private def runner(name: Option[String]): Either[String, ServiceRunner] = name match {
    case None => Right(runners.head)
    case Some(n) => runners.find(_.name == n).toRight(s"no service '$n' in this application (it has " +
      runners.map(_.name).mkString(", ") + ")")
  }

  private def runnerOf(containerId: String): Option[ServiceRunner] =
    runners.find(_.tracker.worker(containerId).nonEmpty)

  def run(): Int = {
    val jvmStart = java.time.Instant.ofEpochMilli(java.lang.management.ManagementFactory.getRuntimeMXBean.getStartTime)
    log(s"starting $attemptId (JVM started $jvmStart): " + contract.ordered.map { case (name, s) =>
      s"$name: ${s.target} containers of ${s.memoryMb} MB, ${s.vcores} vcores" +
        s.extraResources.map { case (k, v) => s", $v $k" }.mkString + s", max_restarts=${s.maxRestarts}" +
        (if (s.depends.nonEmpty) s", after ${s.depends.mkString(", ")}" else "")
    }.mkString("; "))
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
    // Only containers with key-value access receive the secret's file (a look in HDFS).
    def secretFile = Resources.describe(conf, LaunchContract.SecretName,
      s"${contract.recordsFolder}/$appId.secret", "FILE", "PRIVATE")
    startTokenRefresher()
    // Without Kerberos a container's HDFS identity is this variable (as the AM's own).
    val identity = if (org.apache.hadoop.security.UserGroupInformation.isSecurityEnabled) Map.empty[String, String]
      else Map("HADOOP_USER_NAME" -> org.apache.hadoop.security.UserGroupInformation.getCurrentUser.getShortUserName)
    runners = contract.ordered.map { case (name, spec) =>
      new ServiceRunner(name, spec, new ContainerLauncher(name, spec, secretFile, s"$host:$port", contract.acls,
        appId, identity, secret), rm, nm, adoptedStopper, () => state.markDirty(), events)
    }
    val firstAttempt = attemptId.getAttemptId == 1
    // Asks queued before registering are granted sooner (Python checked their size).
    if (firstAttempt) beginReadyServices()
    // The tracking URL: YARN's UI links to the status page through its proxy.
    val registration = rm.registerApplicationMaster(host, port, s"http://$host:$port/")
    maxCapability = registration.getMaximumResourceCapability
    log(s"registered; control endpoint on $host:$port, status page $pageProxyUrl")
    events.add(s"attempt ${attemptId.getAttemptId} registered")
    if (!firstAttempt) resume(registration.getContainersFromPreviousAttempts.asScala.toSeq)
    kv.locked(state.begin(snapshot))
    control.start() // served once the state is whole (a later attempt has taken over)
    contract.driver.foreach { d =>
      driver = new Driver(d, Map("KNIT_APPLICATION_ID" -> appId, "KNIT_AM_ADDRESS" -> s"$host:$port",
        "KNIT_SERVICE" -> "driver") ++ identity, secret, (code, stderr) => {
        val why = s"the driver exited with code $code" +
          (if (code != 0 && stderr.nonEmpty) s"; the end of its stderr (driver.stderr):\n$stderr" else "")
        log(why)
        events.add(why)
        if (finishAs.isEmpty)
          finishAs = Some(if (code == 0) (FinalApplicationStatus.SUCCEEDED, why) else (FinalApplicationStatus.FAILED, why))
        wake()
      })
      driver.start()
      log("driver started")
    }
    waitUntilDone()
    val (status, text) = finalStatus
    log(s"finishing $status: $text")
    control.stop()
    if (driver != null) driver.stop()
    if (refresher != null) refresher.stop()
    rm.unregisterApplicationMaster(status, text, "")
    nm.stop()
    adoptedStopper.stop()
    rm.stop()
    if (status == FinalApplicationStatus.SUCCEEDED) 0 else 1
  }

  private def finalStatus: (FinalApplicationStatus, String) = {
    lazy val summaries = runners.map(r => r.name -> r.tracker.summary)
    lazy val summary = if (runners.size == 1) summaries.head._2._2
      else summaries.map { case (name, (_, text)) => s"$name: $text" }.mkString("; ")
    if (shutdownRequested) (FinalApplicationStatus.KILLED, "the ResourceManager asked us to shut down")
    else finishAs.getOrElse {
      if (stalledMessage.nonEmpty) (FinalApplicationStatus.FAILED, stalledMessage)
      else if (runners.forall(_.succeeded)) (FinalApplicationStatus.SUCCEEDED, summary)
      else (FinalApplicationStatus.FAILED, summary)
    }
  }

  /** Ask for the containers of every service whose dependencies have started. */
  private def beginReadyServices(): Unit = synchronized {
    val started = runners.filter(_.hasStarted).map(_.name).toSet
    runners.filter(r => !r.isBegun && r.spec.depends.forall(started)).foreach { r =>
      val asked = r.begin()
      if (r.spec.depends.nonEmpty) {
        log(s"${r.name}: ${r.spec.depends.mkString(", ")} started; asking for its $asked container(s)")
        events.add(s"${r.name}: its dependencies started; asking for $asked container(s)")
      }
      if (asked > 0) rm.setHeartbeatInterval(fastHeartbeatMs)
      state.markDirty()
    }
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

  /** A later attempt: take over the containers still running and ask for what the targets lack. */
  private def resume(running: Seq[Container]): Unit = {
    val saved = state.load()
    kv.restore(saved.kvBase64, saved.kvOwners, base64 = true)
    running.foreach { c =>
      val r = runners.find(_.owns(c)).getOrElse(runners.head)
      r.tracker.adopt(c.getId.toString, c.getNodeId.toString, c.getNodeHttpAddress,
        c.getResource.getMemorySize, c.getResource.getVirtualCores)
    }
    runners.foreach { r =>
      r.launcher.instancesBefore(saved.services.get(r.name).map(_.launched).getOrElse(r.tracker.workers.size))
      saved.services.get(r.name) match {
        case Some(s) if s.begun =>
          r.markStarted()
          val missing = r.begin(Some((s.target, s.restarts)))
          log(s"${r.name}: took over ${r.tracker.live.size} running container(s); target ${r.tracker.target}, " +
            s"asking for $missing more")
          if (missing > 0) rm.setHeartbeatInterval(fastHeartbeatMs)
        case _ => ()
      }
    }
    events.add(s"took over ${running.size} running container(s) of the previous attempt")
    beginReadyServices()
    state.markDirty()
  }

  private def finished: Boolean =
    finishAs.nonEmpty || (!contract.keepAlive && driver == null && runners.forall(_.isIdle))

  private def clientGone: Boolean =
    contract.clientTimeoutMs > 0 && control.clientGone(contract.clientTimeoutMs)

  private def snapshot: StateStore.Snapshot = StateStore.Snapshot(runners.map(r => r.name -> StateStore.ServiceState(
    r.tracker.target, r.tracker.restarts, r.isBegun, r.launcher.launchedTotal)).toMap, kv.snapshotBase64, kv.ownership)

  /** The snapshot when something changed; a new journal when the last one is full. */
  private def saveState(): Unit =
    if (state.journalFull) kv.locked(state.begin(snapshot)) else state.saveIfDirty(snapshot)

  private def waitUntilDone(): Unit = done.synchronized {
    while (!finished && !shutdownRequested && stalledMessage.isEmpty) {
      done.wait(500)
      saveState()
      beginReadyServices()
      runners.iterator.flatMap(r => r.fatal.map(why => if (runners.size > 1) s"service ${r.name}: $why" else why))
        .nextOption().foreach(why => stalledMessage = why)
      if (clientGone)
        stalledMessage = s"the client has not contacted the ApplicationMaster for " +
          s"${contract.clientTimeoutMs / 1000} s (its process ended?); stopping so the application is not orphaned"
      // A service waits for its asks (withdrawn or granted later); a job fails.
      if (!contract.keepAlive) runners.find(_.tracker.allocationStalled(contract.allocationTimeoutMs)).foreach { r =>
        stalledMessage = s"YARN granted ${r.tracker.granted} of ${r.tracker.asked} containers " +
          (if (runners.size > 1) s"of service ${r.name} " else "") +
          s"(${r.spec.memoryMb} MB, ${r.spec.vcores} vcores" +
          r.spec.extraResources.map { case (k, v) => s", $v $k" }.mkString + s" each) within " +
          s"${contract.allocationTimeoutMs / 1000} s; the queue or cluster lacks room: " +
          "ask for fewer or smaller containers, or another queue" +
          (if (r.spec.nodeLabel.nonEmpty || r.spec.nodes.nonEmpty || r.spec.racks.nonEmpty)
            ", or relax the service's placement" else "")
      }
    }
    saveState()
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

  private def pending: Int = runners.map(_.tracker.pending).sum

  private final class RMCallbacks extends AMRMClientAsync.AbstractCallbackHandler {
    override def onContainersAllocated(containers: JList[Container]): Unit = {
      containers.asScala.foreach(allocated)
      if (!containers.isEmpty) milestones.granted(containers.size, pending)
    }

    private def allocated(c: Container): Unit = {
      runners.find(_.owns(c)).flatMap(r => r.allocated(c)) match {
        case Some(context) =>
          events.add(s"${c.getId} granted on ${c.getNodeId}")
          nm.startContainerAsync(c, context)
        case None => rm.releaseAssignedContainer(c.getId)
      }
      if (pending == 0) rm.setHeartbeatInterval(idleHeartbeatMs)
    }

    override def onContainersCompleted(statuses: JList[ContainerStatus]): Unit = {
      statuses.asScala.foreach { s =>
        val id = s.getContainerId.toString
        log(s"$id exited with ${s.getExitStatus} ${s.getDiagnostics.trim.take(200)}")
        val released = kv.release(id)
        if (released.nonEmpty) events.add(s"$id ended: its keys ${released.mkString(", ")} deleted")
        // (A surplus grant released at once is no container of ours.)
        runnerOf(id).foreach { r =>
          val w = r.tracker.worker(id).get
          events.add(s"$id exited with status ${s.getExitStatus}")
          if (r.tracker.completed(id, s.getExitStatus, s.getDiagnostics)) {
            val limit = if (r.spec.maxRestarts < 0) "unlimited" else r.spec.maxRestarts.toString
            log(s"replacing $id of ${r.name} (restart ${r.tracker.restarts} of $limit)")
            events.add(s"$id failed; asking for a replacement (restart ${r.tracker.restarts})")
            r.replaceAfter(id, Capability(w.memoryMb, w.vcores, r.spec.extraResources))
            rm.setHeartbeatInterval(fastHeartbeatMs)
          }
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
        val used = Option(r.getUsed).getOrElse(Resource.newInstance(0L, 0))
        val free = org.apache.hadoop.yarn.util.resource.Resources.subtract(r.getCapability, used)
        runners.foreach(_.nodeRoom(host, Some(free)))
      } else {
        runners.foreach(_.nodeRoom(host, None))
        events.add(s"node $host is ${r.getNodeState}: asks no longer name it")
      }
    }

    override def getProgress: Float = userProgress.getOrElse {
      val begun = runners.filter(_.isBegun)
      if (begun.isEmpty) 0f else begun.map(_.tracker.progress).sum / begun.size
    }

    override def onError(e: Throwable): Unit = {
      log(s"ResourceManager error: $e")
      stalledMessage = s"the ResourceManager refused the ApplicationMaster: $e"
      wake()
    }
  }

  private final class NMCallbacks extends NMClientAsync.AbstractCallbackHandler {
    override def onContainerStarted(id: ContainerId, serviceData: java.util.Map[String, ByteBuffer]): Unit = {
      runnerOf(id.toString).foreach(_.tracker.started(id.toString))
      events.add(s"$id started")
      milestones.started(pending, runners.map(_.tracker.workers.values.count(_.state == "ALLOCATED")).sum)
      if (runners.exists(!_.isBegun)) beginReadyServices()
    }

    override def onStartContainerError(id: ContainerId, t: Throwable): Unit = {
      events.add(s"$id could not be launched: $t")
      runnerOf(id.toString).foreach { r =>
        if (r.tracker.completed(id.toString, -1, s"launch failed: $t")) r.replaceAfter(id.toString, r.defaultCapability)
      }
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
    def list(): String = ControlReplies.report(runners.map(r => (r.name, r.tracker, r.spec.maxRestarts)),
      amContainer, attemptId.getAttemptId, amNode, amNodeHttp)

    private def sized(r: ServiceRunner, memoryMb: Option[Int], vcores: Option[Int]): Either[String, Resource] = {
      val c = r.capability(memoryMb, vcores)
      if (c.getMemorySize < 1 || c.getVirtualCores < 1) Left("memory and vcores must be at least 1")
      else tooBig(c).toLeft(c)
    }

    private def inService[T](service: Option[String])(f: ServiceRunner => (Int, String)): (Int, String) =
      runner(service) match {
        case Left(why) => (404, ControlReplies.error(why))
        case Right(r) => f(r)
      }

    private def started(r: ServiceRunner, count: Int): Unit = {
      if (!r.isBegun) r.markStarted() // asked for explicitly: its dependencies no longer hold it back
      rm.setHeartbeatInterval(fastHeartbeatMs)
      log(s"${r.name}: asking for $count more container(s)")
    }

    def add(service: Option[String], count: Int, memoryMb: Option[Int], vcores: Option[Int],
            env: Map[String, String]): (Int, String) = inService(service) { r =>
      if (count < 1 || count > ApplicationMaster.MaxAskPerCall)
        (400, ControlReplies.error(s"count must be between 1 and ${ApplicationMaster.MaxAskPerCall}, not $count"))
      else sized(r, memoryMb, vcores) match {
        case Left(why) => (400, ControlReplies.error(why))
        case Right(c) => started(r, count); r.request(count, c, env); (200, ControlReplies.asked(count, r.tracker.target))
      }
    }

    def scale(service: Option[String], target: Int, memoryMb: Option[Int], vcores: Option[Int]): (Int, String) =
      inService(service) { r =>
        if (target < 0 || target > ApplicationMaster.MaxAskPerCall)
          (400, ControlReplies.error(s"target must be between 0 and ${ApplicationMaster.MaxAskPerCall}, not $target"))
        else sized(r, memoryMb, vcores) match {
          case Left(why) => (400, ControlReplies.error(why))
          case Right(c) =>
            if (!r.isBegun) r.markStarted()
            val set = r.scaleTo(target, c)
            rm.setHeartbeatInterval(if (r.tracker.pending > 0) fastHeartbeatMs else idleHeartbeatMs)
            log(s"${r.name}: target set to $target")
            (200, ControlReplies.target(set))
        }
      }

    def withdraw(service: Option[String], count: Int): (Int, String) = inService(service) { r =>
      val withdrawn = r.withdraw(count)
      if (pending == 0) rm.setHeartbeatInterval(idleHeartbeatMs)
      log(s"${r.name}: withdrew $withdrawn container ask(s)")
      events.add(s"${r.name}: withdrew $withdrawn container ask(s)")
      (200, ControlReplies.withdrawn(withdrawn))
    }

    def remove(id: String): (Int, String) =
      if (id == amContainer) (400, ControlReplies.ownContainer(id))
      else if (runnerOf(id).exists(_.remove(id))) { events.add(s"$id stopped on request"); (200, ControlReplies.removed(id)) }
      else (404, ControlReplies.notLive(id))

    def shutdown(status: String, diagnostics: String): (Int, String) =
      scala.util.Try(FinalApplicationStatus.valueOf(status)).toOption
        .filter(s => s != FinalApplicationStatus.UNDEFINED) match {
        case None => (400, ControlReplies.error(s"status must be SUCCEEDED, FAILED or KILLED, not '$status'"))
        case Some(s) =>
          val text = if (diagnostics.nonEmpty) diagnostics else s"shut down on request ($s)"
          log(s"shutdown requested: $s: $text")
          events.add(s"shutdown requested: $s")
          finishAs = Some((s, text))
          wake()
          (200, ControlReplies.shuttingDown(s.toString))
      }

    def setProgress(progress: Double): (Int, String) =
      if (progress.isNaN || progress < 0 || progress > 1)
        (400, ControlReplies.error(s"progress must be between 0 and 1, not $progress"))
      else { userProgress = Some(progress.toFloat); (200, ControlReplies.progress(progress)) }

    def keyValues: KeyValueStore = kv

    def isLiveContainer(containerId: String): Boolean =
      containerId == amContainer || runners.exists(_.tracker.live.exists(_.id == containerId))

    def statusPage(): String = StatusPage.render(StatusPage.View(
      appId, attemptId.getAttemptId, owner, runners.map(_.tracker.target).sum, pending,
      runners.map(_.tracker.restarts).sum, runners.head.spec.maxRestarts,
      runners.flatMap(r => r.tracker.workers.values.toSeq.map(w => StatusPage.Row(w.id, w.state, w.node, w.nodeHttp,
        w.memoryMb, w.vcores, w.exitStatus, w.diagnostics, r.name))),
      events.recent, services = runners.map(_.name), keyValues = kv.snapshot))

    def servesPageTo(address: java.net.InetAddress): Boolean = pageProxyFrom.contains(address)

    def pageProxyUrl: String = ApplicationMaster.this.pageProxyUrl

    def mayView(user: Option[String]): Boolean = StatusPage.mayView(user,
      owner = owner, viewAcl = contract.acls.get("VIEW_APP"),
      adminAcl = conf.get("yarn.admin.acl", "*"), aclsEnabled = conf.getBoolean("yarn.acl.enable", false),
      groups = u => org.apache.hadoop.security.Groups.getUserToGroupsMappingService(conf).getGroupsSet(u).asScala.toSet)
  }
}
