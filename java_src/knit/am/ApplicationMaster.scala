package knit.am

import java.net.InetAddress
import java.nio.ByteBuffer
import java.util.{List => JList}

import scala.jdk.CollectionConverters._

import org.apache.hadoop.yarn.api.ApplicationConstants
import org.apache.hadoop.yarn.api.ApplicationConstants.Environment
import org.apache.hadoop.yarn.api.records._
import org.apache.hadoop.yarn.client.api.AMRMClient.ContainerRequest
import org.apache.hadoop.yarn.client.api.async.{AMRMClientAsync, NMClientAsync}
import org.apache.hadoop.yarn.conf.YarnConfiguration
import org.apache.hadoop.yarn.util.Records

/** knit's ApplicationMaster: runs one shell command in N containers.
  *
  * Lifecycle: read settings -> queue container asks -> register -> launch each
  * granted container -> unregister SUCCEEDED when every container exited 0, FAILED
  * (with the containers and exit codes) otherwise. Containers can be added and
  * removed while it runs, through [[ControlServer]].
  *
  * With keep-alive (a service such as a Dask cluster) it runs until killed, however
  * many containers are left; with a client timeout it ends FAILED when the client
  * has not called the control endpoint for that long (its process is gone), so no
  * application outlives its client.
  */
object ApplicationMaster {
  def main(args: Array[String]): Unit = {
    val am = new ApplicationMaster(AppMasterConfig.fromEnv(sys.env), new YarnConfiguration())
    val exitCode = try am.run() catch {
      case e: Throwable =>
        System.err.println(s"knit ApplicationMaster failed: $e")
        e.printStackTrace()
        1
    }
    sys.exit(exitCode)
  }
}

final class ApplicationMaster(config: AppMasterConfig, conf: YarnConfiguration) {
  private val tracker = new ContainerTracker()
  private val done = new Object
  private var shutdownRequested = false
  private val appAttempt = sys.env(Environment.CONTAINER_ID.name)
  private val fastHeartbeatMs = 100
  private val idleHeartbeatMs = 1000

  private val rm = AMRMClientAsync.createAMRMClientAsync[ContainerRequest](fastHeartbeatMs, new RMCallbacks)
  private val nm = NMClientAsync.createNMClientAsync(new NMCallbacks)
  private val launcher = new ContainerLauncher(config)

  def run(): Int = {
    log(s"starting: ${config.numContainers} containers of ${config.memoryMb} MB, ${config.vcores} vcores")
    rm.init(conf)
    rm.start()
    nm.init(conf)
    nm.start()
    if (config.numContainers > 0) requestContainers(config.numContainers, config.memoryMb, config.vcores)
    val host = sys.env.getOrElse(Environment.NM_HOST.name, InetAddress.getLocalHost.getHostName)
    val control = new ControlServer(host, config.controlSecret, new Actions)
    val port = control.start()
    this.control = control
    rm.registerApplicationMaster(host, port, "")
    log(s"registered; control endpoint on $host:$port")
    waitUntilDone()
    val (succeeded, diagnostics) = tracker.synchronized(tracker.summary)
    val (status, text) =
      if (shutdownRequested) (FinalApplicationStatus.KILLED, "the ResourceManager asked us to shut down")
      else if (stalledMessage.nonEmpty) (FinalApplicationStatus.FAILED, stalledMessage)
      else if (succeeded) (FinalApplicationStatus.SUCCEEDED, diagnostics)
      else (FinalApplicationStatus.FAILED, diagnostics)
    log(s"finishing $status: $text")
    control.stop()
    rm.unregisterApplicationMaster(status, text, "")
    nm.stop()
    rm.stop()
    if (status == FinalApplicationStatus.SUCCEEDED) 0 else 1
  }

  @volatile private var stalledMessage = ""
  @volatile private var control: ControlServer = _

  private def finished: Boolean = !config.keepAlive && tracker.synchronized(tracker.isDone)

  private def clientGone: Boolean =
    config.clientTimeoutMs > 0 && System.currentTimeMillis() - control.lastContactMs > config.clientTimeoutMs

  private def waitUntilDone(): Unit = done.synchronized {
    while (!finished && !shutdownRequested && stalledMessage.isEmpty) {
      done.wait(500)
      if (clientGone)
        stalledMessage = s"the client has not contacted the ApplicationMaster for " +
          s"${config.clientTimeoutMs / 1000} s (its process ended?); stopping so the application is not orphaned"
      tracker.synchronized {
        // A service waits for its asks (withdrawn or granted later); a job fails.
        if (!config.keepAlive && tracker.allocationStalled(config.allocationTimeoutMs))
          stalledMessage = s"YARN granted ${tracker.granted} of ${tracker.asked} containers " +
            s"(${config.memoryMb} MB, ${config.vcores} vcores each) within " +
            s"${config.allocationTimeoutMs / 1000} s; the queue or cluster lacks room: " +
            "ask for fewer or smaller containers, or another queue"
      }
    }
  }

  private def wake(): Unit = done.synchronized(done.notifyAll())

  private def requestContainers(count: Int, memoryMb: Int, vcores: Int): Unit = {
    val capability = Resource.newInstance(memoryMb.toLong, vcores)
    val priority = Priority.newInstance(config.priority)
    // Asks name no node: measured on the local cluster, naming the hosts made
    // allocation slower (10 containers: 4.6 s instead of 2.7 s to all RUNNING).
    tracker.synchronized(tracker.request(count))
    askedCapabilities.synchronized(askedCapabilities += capability)
    for (_ <- 1 to count) rm.addContainerRequest(new ContainerRequest(capability, null, null, priority))
    rm.setHeartbeatInterval(fastHeartbeatMs)
  }

  /** Sizes asked for so far: how outstanding asks are found to withdraw them. */
  private val askedCapabilities = scala.collection.mutable.LinkedHashSet[Resource]()

  private def withdrawContainers(count: Int): Int = {
    val withdrawn = tracker.synchronized(tracker.withdraw(count))
    val priority = Priority.newInstance(config.priority)
    val outstanding = askedCapabilities.synchronized(askedCapabilities.toSeq.reverse).iterator
      .flatMap(cap => rm.getMatchingRequests(priority, ResourceRequest.ANY, cap).asScala.flatMap(_.asScala))
    outstanding.toList.distinct.take(withdrawn).foreach(rm.removeContainerRequest)
    if (tracker.synchronized(tracker.pending) == 0) rm.setHeartbeatInterval(idleHeartbeatMs)
    withdrawn
  }

  private def log(message: String): Unit = println(s"${java.time.Instant.now} knit-am: $message")

  private final class RMCallbacks extends AMRMClientAsync.AbstractCallbackHandler {
    override def onContainersAllocated(containers: JList[Container]): Unit = containers.asScala.foreach { c =>
      val launch = tracker.synchronized(tracker.allocated(c.getId.toString, c.getNodeId.toString,
        c.getNodeHttpAddress, c.getResource.getMemorySize, c.getResource.getVirtualCores))
      if (launch) {
        // Granted capability may be rounded up: match asks that fit in it.
        val asks = rm.getMatchingRequests(c.getPriority, ResourceRequest.ANY, c.getResource)
        asks.asScala.flatMap(_.asScala).headOption.foreach(rm.removeContainerRequest)
        nm.startContainerAsync(c, launcher.context(c))
      } else rm.releaseAssignedContainer(c.getId)
      if (tracker.synchronized(tracker.pending) == 0) rm.setHeartbeatInterval(idleHeartbeatMs)
    }

    override def onContainersCompleted(statuses: JList[ContainerStatus]): Unit = {
      statuses.asScala.foreach { s =>
        log(s"${s.getContainerId} exited with ${s.getExitStatus} ${s.getDiagnostics.trim.take(200)}")
        tracker.synchronized(tracker.completed(s.getContainerId.toString, s.getExitStatus, s.getDiagnostics))
      }
      wake()
    }

    override def onContainersUpdated(containers: JList[UpdatedContainer]): Unit = ()

    override def onShutdownRequest(): Unit = { shutdownRequested = true; wake() }

    override def onNodesUpdated(reports: JList[NodeReport]): Unit = ()

    override def getProgress: Float = tracker.synchronized(tracker.progress)

    override def onError(e: Throwable): Unit = {
      log(s"ResourceManager error: $e")
      shutdownRequested = true
      wake()
    }
  }

  private final class NMCallbacks extends NMClientAsync.AbstractCallbackHandler {
    override def onContainerStarted(id: ContainerId, serviceData: java.util.Map[String, ByteBuffer]): Unit =
      tracker.synchronized(tracker.started(id.toString))

    override def onStartContainerError(id: ContainerId, t: Throwable): Unit = {
      tracker.synchronized(tracker.completed(id.toString, -1, s"launch failed: $t"))
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
    def list(): String = tracker.synchronized {
      Json.obj(
        "am" -> appAttempt,
        "pending" -> tracker.pending,
        "containers" -> tracker.workers.values.map(w => Map(
          "id" -> w.id, "state" -> w.state, "node" -> w.node, "nodeHttpAddress" -> w.nodeHttp,
          "memoryMb" -> w.memoryMb, "vcores" -> w.vcores, "exitStatus" -> w.exitStatus)).toSeq)
    }

    def add(count: Int, memoryMb: Option[Int], vcores: Option[Int]): String = {
      requestContainers(count, memoryMb.getOrElse(config.memoryMb), vcores.getOrElse(config.vcores))
      Json.obj("requested" -> count)
    }

    def withdraw(count: Int): String = {
      val withdrawn = withdrawContainers(count)
      log(s"withdrew $withdrawn container ask(s)")
      Json.obj("withdrawn" -> withdrawn)
    }

    def remove(id: String): (Int, String) = {
      if (id == appAttempt) (400, Json.obj("error" -> s"$id is the ApplicationMaster's own container"))
      else {
        val worker = tracker.synchronized(if (tracker.remove(id)) tracker.workers.get(id) else None)
        worker match {
          case Some(w) =>
            nm.stopContainerAsync(ContainerId.fromString(w.id), NodeId.fromString(w.node))
            (200, Json.obj("removed" -> id))
          case None => (404, Json.obj("error" -> s"$id is not a live container of this application"))
        }
      }
    }
  }
}

/** Builds the launch context of a worker container. */
final class ContainerLauncher(config: AppMasterConfig) {
  private val localResources = config.resources.map(r => r.name -> Resources.toLocalResource(r)).toMap.asJava

  def context(container: Container): ContainerLaunchContext = {
    val env = new java.util.HashMap[String, String]()
    config.forwardedEnv.foreach { case (k, v) => env.put(k, v) }
    env.put("KNIT_BOOT_B64", config.bootScriptB64)
    val logDir = ApplicationConstants.LOG_DIR_EXPANSION_VAR
    val command = "base64 -d <<<$KNIT_BOOT_B64 >knit-boot.sh && exec /bin/bash knit-boot.sh " +
      s"1>$logDir/stdout 2>$logDir/stderr"
    val context = Records.newRecord(classOf[ContainerLaunchContext])
    context.setLocalResources(localResources)
    context.setEnvironment(env)
    context.setCommands(java.util.Collections.singletonList(command))
    context
  }
}
