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

/** Builds the launch context of a worker container.
  *
  * The boot script (environment exports, then the command) travels base64-encoded in
  * one variable, so YARN's launch script holds no value a shell could re-parse. With
  * key-value access the workers also get the control secret as a PRIVATE file, and
  * the control endpoint's address, to publish values (such as a Dask scheduler's
  * address); without, nothing more to localize (a PRIVATE file costs each node a
  * localizer process per application).
  */
final class ContainerLauncher(spec: ServiceSpec, secretFile: => Resources.Described, controlAddress: String,
                              acls: Map[String, String]) {
  // A NodeManager learns an application's ACLs from the first of its containers it runs:
  // every worker carries them, so who may view its logs is the same on every node.
  private val applicationAcls = acls.map { case (kind, acl) => ApplicationAccessType.valueOf(kind) -> acl }.asJava
  private lazy val localResources =
    (spec.resources ++ (if (spec.kvAccess) Seq(secretFile) else Nil))
      .map(r => r.name -> Resources.toLocalResource(r)).toMap.asJava
  private val bootB64 = Base64.getEncoder.encodeToString(spec.bootScript.getBytes(UTF_8))
  private val started = java.util.concurrent.ConcurrentHashMap.newKeySet[String]()

  /** Whether this attempt launched the container (else an earlier attempt did). */
  def launched(id: String): Boolean = started.contains(id)

  /** How many containers this attempt launched. */
  def launchedCount: Int = started.size

  def context(container: Container): ContainerLaunchContext = {
    started.add(container.getId.toString)
    val env = new java.util.HashMap[String, String]()
    env.put("KNIT_BOOT_B64", bootB64)
    if (spec.kvAccess) env.put("KNIT_AM_ADDRESS", controlAddress)
    val logDir = ApplicationConstants.LOG_DIR_EXPANSION_VAR
    val command = "base64 -d <<<$KNIT_BOOT_B64 >knit-boot.sh && exec /bin/bash knit-boot.sh " +
      s"1>$logDir/stdout 2>$logDir/stderr"
    val context = Records.newRecord(classOf[ContainerLaunchContext])
    context.setLocalResources(localResources)
    context.setEnvironment(env)
    context.setCommands(java.util.Collections.singletonList(command))
    context.setTokens(Tokens.current()) // HDFS (and other) delegation tokens, never the AMRM token
    context.setApplicationACLs(applicationAcls)
    context
  }
}
