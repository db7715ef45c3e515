package knit.am

import knit.contract._

import java.nio.charset.StandardCharsets.UTF_8
import java.util.Base64
import java.util.concurrent.atomic.AtomicInteger

import scala.jdk.CollectionConverters._

import org.apache.hadoop.yarn.api.ApplicationConstants
import org.apache.hadoop.yarn.api.records._
import org.apache.hadoop.yarn.util.Records

/** Builds the launch context of a worker container.
  *
  * The boot script (environment exports, then the command) travels base64-encoded in
  * one variable, so YARN's launch script holds no value a shell could re-parse. With
  * key-value access the workers also get the control secret as a PRIVATE file, and
  * the control endpoint's address, to publish values (such as a Dask scheduler's
  * address); without, nothing more to localize (a PRIVATE file costs each node a
  * localizer process per application).
  *
  * The launch context also holds what the NodeManager itself may need to read: the
  * service's `env` entries YARN's launch script can carry byte-exact (all of them are
  * exported again by the boot script), `HADOOP_USER_NAME` of the submitting user under
  * simple authentication (`identity`), and the container's facts: `KNIT_APPLICATION_ID`,
  * `KNIT_SERVICE`, `KNIT_INSTANCE` (0, 1, ... in the order the service's containers
  * were launched), `KNIT_AM_ADDRESS`, and the size YARN granted
  * (`KNIT_RESOURCE_MEMORY_MB`, `KNIT_RESOURCE_VCORES`). Environment overrides of one container (`add` with `env`) travel
  * as export lines, quoted here, in `KNIT_ENV_B64`, which the boot script evaluates
  * after the service's own exports.
  */
final class ContainerLauncher(service: String, spec: ServiceSpec, secretFile: => Resources.Described,
                              controlAddress: String, acls: Map[String, String], appId: String,
                              identity: Map[String, String], secret: String) {
  // A NodeManager learns an application's ACLs from the first of its containers it runs:
  // every worker carries them, so who may view its logs is the same on every node.
  private val applicationAcls = acls.map { case (kind, acl) => ApplicationAccessType.valueOf(kind) -> acl }.asJava
  private lazy val localResources =
    (spec.files ++ (if (spec.kvAccess) Seq(secretFile) else Nil))
      .map(r => r.name -> Resources.toLocalResource(r)).toMap.asJava
  private val bootB64 = Base64.getEncoder.encodeToString(spec.bootScript.getBytes(UTF_8))
  private val started = java.util.concurrent.ConcurrentHashMap.newKeySet[String]()
  private val instances = new AtomicInteger(0)
  private val carried = spec.env.filter { case (_, v) => ContainerLauncher.launchScriptSafe(v) }

  /** Continue the instance numbers after `count` containers of an earlier attempt. */
  def instancesBefore(count: Int): Unit = instances.accumulateAndGet(count, math.max)

  /** Whether this attempt launched the container (else an earlier attempt did). */
  def launched(id: String): Boolean = started.contains(id)

  /** How many containers of the service were launched, by every attempt. */
  def launchedTotal: Int = instances.get

  /** How many containers this attempt launched. */
  def launchedCount: Int = started.size

  def context(container: Container, overrides: Map[String, String] = Map.empty): ContainerLaunchContext = {
    started.add(container.getId.toString)
    val env = new java.util.HashMap[String, String]()
    identity.foreach { case (k, v) => env.put(k, v) }
    (carried ++ overrides.filter { case (_, v) => ContainerLauncher.launchScriptSafe(v) })
      .foreach { case (k, v) => env.put(k, v) }
    env.put("KNIT_APPLICATION_ID", appId)
    env.put("KNIT_SERVICE", service)
    env.put("KNIT_INSTANCE", instances.getAndIncrement().toString)
    env.put("KNIT_RESOURCE_MEMORY_MB", container.getResource.getMemorySize.toString)
    env.put("KNIT_RESOURCE_VCORES", container.getResource.getVirtualCores.toString)
    if (overrides.nonEmpty) env.put("KNIT_ENV_B64", ContainerLauncher.exportsB64(overrides))
    env.put("KNIT_BOOT_B64", bootB64)
    env.put("KNIT_AM_ADDRESS", controlAddress) // the credential is in the token file
    val logDir = ApplicationConstants.LOG_DIR_EXPANSION_VAR
    // (The service's PATH is in the launch context: the decoder is found without it.)
    val command = "PATH=/usr/bin:/bin:$PATH base64 -d <<<$KNIT_BOOT_B64 >knit-boot.sh && exec /bin/bash knit-boot.sh " +
      s"1>$logDir/stdout 2>$logDir/stderr"
    val context = Records.newRecord(classOf[ContainerLaunchContext])
    context.setLocalResources(localResources)
    context.setEnvironment(env)
    context.setCommands(java.util.Collections.singletonList(command))
    // HDFS (and other) delegation tokens, never the AMRM token; and its own credential.
    context.setTokens(Tokens.current(Map(ControlServer.CredentialKey ->
      ControlServer.credential(secret, container.getId.toString).getBytes(UTF_8))))
    context.setApplicationACLs(applicationAcls)
    context
  }
}

object ContainerLauncher {
  /** Whether YARN's launch script (`export NAME="value"`) carries a value unchanged. */
  def launchScriptSafe(value: String): Boolean = !value.exists(c => "\"$`\\\n\r".contains(c) || c == 0.toChar)

  /** One word for bash, byte-exact: single quotes, each quote closed, escaped, reopened. */
  def shellQuote(word: String): String = "'" + word.replace("'", "'\\''") + "'"

  /** `export NAME='value'` lines of `env`, base64-encoded. */
  def exportsB64(env: Map[String, String]): String = Base64.getEncoder.encodeToString(
    env.toSeq.sorted.map { case (k, v) => s"export $k=${shellQuote(v)}\n" }.mkString.getBytes(UTF_8))
}
