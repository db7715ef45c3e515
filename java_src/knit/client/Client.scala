package knit.client

import java.nio.ByteBuffer
import java.nio.charset.StandardCharsets.UTF_8
import java.util.{HashMap => JHashMap, List => JList, Map => JMap}

import scala.jdk.CollectionConverters._

import org.apache.hadoop.fs.{FileContext, FileSystem, Options, Path}
import org.apache.hadoop.fs.permission.FsPermission
import org.apache.hadoop.io.DataOutputBuffer
import org.apache.hadoop.security.{Credentials, SecurityUtil, UserGroupInformation}
import org.apache.hadoop.yarn.api.ApplicationConstants
import org.apache.hadoop.yarn.api.ApplicationConstants.Environment
import org.apache.hadoop.yarn.api.records._
import org.apache.hadoop.yarn.client.api.YarnClient
import org.apache.hadoop.yarn.conf.YarnConfiguration
import org.apache.hadoop.yarn.logaggregation.ContainerLogsRequest
import org.apache.hadoop.yarn.logaggregation.filecontroller.LogAggregationFileControllerFactory
import org.apache.hadoop.yarn.util.Records

import knit.contract.{Capability, Json, LaunchContract, QuickClose, Resources}

/** What Python calls through the gateway: HDFS staging and application submission.
  *
  * Every method takes and returns plain values (strings, numbers, lists, maps).
  */
class Client {
  private val conf = new YarnConfiguration()
  QuickClose(conf)
  private var yarnClient: YarnClient = _
  /** HDFS folders this client made sure exist. */
  private val readyFolders = scala.collection.mutable.Set[String]()

  /** Set a Hadoop property (a `pars=` entry or a knit override) before first use. */
  def set(key: String, value: String): Unit = conf.set(key, value)

  /** Set many properties at once: a JSON object of strings (one gateway call). */
  def setAll(json: String): Unit = Json.parse(json) match {
    case m: Map[_, _] => m.foreach { case (k, v) => conf.set(k.toString, v.toString) }
    case other => throw new IllegalArgumentException(s"expected a JSON object of properties, not $other")
  }

  /** Open the connection to HDFS and make the YARN client now (the first use of each
    * loads their classes: hundreds of ms), so a later submission does not wait. No
    * ResourceManager call: one that waits on a wrong address would make the
    * submission's own call wait behind it.
    *
    * @param path an HDFS path to look at (the staging home)
    */
  def warm(path: String): Unit = as {
    fileStatus(path)
    yarn
  }

  def hadoopVersion(): String = org.apache.hadoop.util.VersionInfo.getVersion

  /** Log in to a Kerberized cluster, once per JVM (Python gives each login its own JVM):
    * from `keytab` as `principal`, or (both empty) from the ticket cache.
    *
    * @return `user` (the short name Hadoop will use), `principal`, and `kerberos`
    *         (whether Kerberos credentials were found; false means no valid ticket)
    */
  def login(principal: String, keytab: String): JMap[String, Any] = {
    UserGroupInformation.setConfiguration(conf)
    if (keytab.nonEmpty && !UserGroupInformation.isLoginKeytabBased)
      UserGroupInformation.loginUserFromKeytab(principal, keytab)
    val user = UserGroupInformation.getLoginUser
    val info = new JHashMap[String, Any]()
    info.put("user", user.getShortUserName)
    info.put("principal", user.getUserName)
    info.put("kerberos", user.hasKerberosCredentials)
    info
  }

  /** The user this client acts as when it impersonates one ([[impersonate]]). */
  @volatile private var runAs: Option[UserGroupInformation] = None

  /** Act as `user` from now on, through Hadoop's impersonation: HDFS and YARN see
    * `user`, vouched for by this JVM's login user (a service), which the cluster must
    * allow (`hadoop.proxyuser.<service>.hosts` and `.users` or `.groups`). Call once,
    * after [[login]]. */
  def impersonate(user: String): Unit = synchronized {
    require(runAs.isEmpty && yarnClient == null, "impersonate() comes before any other call")
    runAs = Some(UserGroupInformation.createProxyUser(user, UserGroupInformation.getLoginUser))
  }

  /** `f` as the impersonated user, else as the login user (its HDFS and YARN clients
    * are that user's: Hadoop caches them by user). Always explicitly: a pooled thread
    * (the global ExecutionContext's, for side-by-side writes) keeps the identity of
    * the `doAs` it was created under, which may be another Client's user. */
  private def as[T](f: => T): T =
    runAs.getOrElse(UserGroupInformation.getLoginUser)
      .doAs(new java.security.PrivilegedExceptionAction[T] { def run(): T = f })

  private def fs: FileSystem = FileSystem.get(conf)

  private def yarn: YarnClient = synchronized {
    if (yarnClient == null) {
      yarnClient = YarnClient.createYarnClient()
      yarnClient.init(conf)
      yarnClient.start()
    }
    yarnClient
  }

  def defaultFs(): String = FileSystem.getDefaultUri(conf).toString

  def homeDirectory(): String = as(fs.getHomeDirectory.toString)

  /** Size, modification time and permission of an HDFS path, or null if absent. */
  def fileStatus(path: String): JMap[String, Any] = as {
    val p = new Path(path)
    val fileSystem = p.getFileSystem(conf)
    if (!fileSystem.exists(p)) null
    else {
      val status = fileSystem.getFileStatus(p)
      val info = new JHashMap[String, Any]()
      info.put("path", status.getPath.toString)
      info.put("size", status.getLen)
      info.put("modificationTime", status.getModificationTime)
      info.put("permission", status.getPermission.toString)
      info.put("isDirectory", status.isDirectory)
      info
    }
  }

  /** Make a folder (and its parents) with an octal permission such as "700". */
  def mkdirs(path: String, permission: String): String = as {
    val p = new Path(path)
    val perm = new FsPermission(Integer.parseInt(permission, 8).toShort)
    fs.mkdirs(p, perm)
    fs.setPermission(p, perm) // mkdirs applies the umask; this does not
    fs.makeQualified(p).toString
  }

  /** Copy a local file to HDFS with a replication factor and an octal permission. */
  /** Bytes written so far by each upload under way, by remote path (for progress bars). */
  private val uploading = new java.util.concurrent.ConcurrentHashMap[String, java.util.concurrent.atomic.AtomicLong]()

  /** Copy a local file to HDFS with the given replication and permission. */
  def upload(local: String, remote: String, replication: Int, permission: String): JMap[String, Any] = as {
    val target = new Path(remote)
    val mode = new FsPermission(Integer.parseInt(permission, 8).toShort)
    val written = new java.util.concurrent.atomic.AtomicLong()
    uploading.put(remote, written)
    try {
      val in = java.nio.file.Files.newInputStream(java.nio.file.Paths.get(local))
      try {
        val out = fs.create(target, mode, true, 1 << 16, replication.toShort, fs.getDefaultBlockSize(target), null)
        try {
          val buffer = new Array[Byte](1 << 16)
          var n = in.read(buffer)
          while (n >= 0) { out.write(buffer, 0, n); written.addAndGet(n.toLong); n = in.read(buffer) }
        } finally out.close()
      } finally in.close()
    } finally uploading.remove(remote)
    fs.setPermission(target, mode) // create() applies the umask
    fileStatus(fs.makeQualified(target).toString)
  }

  /** Bytes the upload to `remote` has written so far (-1 when none is under way). */
  def uploadProgress(remote: String): Long = Option(uploading.get(remote)).map(_.get).getOrElse(-1L)

  def writeText(remote: String, text: String): Unit = as {
    val out = fs.create(new Path(remote), true)
    try out.write(text.getBytes("UTF-8")) finally out.close()
  }

  def readText(remote: String): String = as {
    val p = new Path(remote)
    if (!fs.exists(p)) null
    else {
      val in = fs.open(p)
      try new String(in.readAllBytes(), "UTF-8") finally in.close()
    }
  }

  /** Move a file into place, replacing what is there (used to publish finished uploads). */
  def rename(from: String, to: String): Boolean = as {
    // Atomic: readers see the old file or the new one, never none.
    FileContext.getFileContext(fs.getUri, conf).rename(new Path(from), new Path(to), Options.Rename.OVERWRITE)
    true
  }

  def delete(remote: String): Boolean = as(fs.delete(new Path(remote), true))

  /** Delete the files of `folder` whose names start with `prefix`; how many. */
  def deleteStartingWith(folder: String, prefix: String): Int = as {
    val p = new Path(folder)
    if (!fs.exists(p)) 0
    else fs.listStatus(p).count(s => s.getPath.getName.startsWith(prefix) && fs.delete(s.getPath, false))
  }

  /** The aggregated logs of an ended application, in `yarn logs`'s format, read here
    * (no `yarn` command and no JVM of its own): every container's files, each whole or,
    * with `bytes` negative, its last `-bytes` bytes. Empty when YARN has aggregated
    * nothing (yet) for it.
    *
    * @param owner the application's user (the owner of its aggregated files)
    */
  def aggregatedLogs(appId: String, owner: String, bytes: Long): Array[Byte] = as {
    val id = ApplicationId.fromString(appId)
    val request = new ContainerLogsRequest()
    request.setAppId(id)
    request.setAppOwner(owner)
    request.setAppFinished(true)
    request.setLogTypes(new java.util.HashSet[String]())  // every file
    request.setBytes(bytes)
    val out = new java.io.ByteArrayOutputStream()
    val controller = try new LogAggregationFileControllerFactory(conf).getFileControllerForRead(id, owner)
    catch {
      case e: org.apache.hadoop.security.AccessControlException => throw e
      case _: java.io.IOException => null  // no aggregated file for it (yet)
    }
    if (controller != null) controller.readAggregatedLogs(request, out)
    out.toByteArray
  }

  /** Files directly inside an HDFS folder (empty if it does not exist). */
  def listFiles(folder: String): JList[JMap[String, Any]] = as {
    val p = new Path(folder)
    if (!fs.exists(p)) new java.util.ArrayList[JMap[String, Any]]()
    else fs.listStatus(p).toSeq.map(s => fileStatus(s.getPath.toString)).asJava
  }

  /** Write a text file that only its owner may read (mode 600, whatever the umask). */
  def writePrivate(remote: String, text: String): String = as {
    val p = new Path(remote)
    val perm = new FsPermission(Integer.parseInt("600", 8).toShort)
    val out = FileSystem.create(fs, p, perm) // created with perm, not perm & ~umask
    try out.write(text.getBytes("UTF-8")) finally out.close()
    fs.makeQualified(p).toString
  }

  /** Copy a local file to HDFS readable by its owner only (mode 600). */
  def copyPrivate(local: String, remote: String): String = as {
    val p = new Path(remote)
    val out = FileSystem.create(fs, p, new FsPermission(Integer.parseInt("600", 8).toShort))
    try java.nio.file.Files.copy(java.nio.file.Paths.get(local), out) finally out.close()
    fs.makeQualified(p).toString
  }

  /** Submit the knit ApplicationMaster.
    *
    * The contract (see [[knit.contract.LaunchContract]]) and the control secret are written to
    * `recordsFolder/<application id>.launch.json` and `.secret` (mode 600 in a 700
    * folder); the ApplicationMaster reads them from HDFS as the application's user
    * (its environment names only the contract's path): they appear in no
    * environment, command line or launch script that the NodeManager serves.
    *
    * @param contractJson the launch contract Python wrote
    * @param secret       the application's control secret
    * @param keytab       a local keytab to ship beside them (mode 600) for the
    *                     ApplicationMaster to renew delegation tokens, or ""
    * @return the application id
    */
  def submit(contractJson: String, secret: String, keytab: String): String = as {
    val contract = LaunchContract.fromJson(contractJson)
    val app = yarn.createApplication()
    val context = app.getApplicationSubmissionContext
    val appId = context.getApplicationId.toString
    context.setApplicationName(contract.appName)
    context.setQueue(contract.queue)
    context.setApplicationType(contract.appType)
    context.setApplicationTags(new java.util.HashSet[String](contract.tags.asJava))
    context.setMaxAppAttempts(contract.maxAttempts)
    // A new attempt of the ApplicationMaster takes over the running workers.
    context.setKeepContainersAcrossApplicationAttempts(true)
    context.setResource(Capability(contract.amMemoryMb.toLong, contract.amVcores,
      contract.amExtraResources))
    context.setPriority(Priority.newInstance(contract.priority))
    if (contract.amNodeLabel.nonEmpty) context.setNodeLabelExpression(contract.amNodeLabel)
    if (contract.attemptFailuresValidityMs > 0)
      context.setAttemptFailuresValidityInterval(contract.attemptFailuresValidityMs)
    if (contract.lifetimeS > 0)
      context.setApplicationTimeouts(Map(ApplicationTimeoutType.LIFETIME -> java.lang.Long.valueOf(contract.lifetimeS)).asJava)

    if (!readyFolders.contains(contract.recordsFolder)) {
      mkdirs(contract.recordsFolder, "700")
      readyFolders += contract.recordsFolder
    }
    // The files are written side by side: each waits on its DataNode's acknowledgement.
    import scala.concurrent.{Await, Future}
    import scala.concurrent.ExecutionContext.Implicits.global
    val writes = Seq(
      Future(writePrivate(s"${contract.recordsFolder}/$appId.launch.json", contractJson)),
      Future(writePrivate(s"${contract.recordsFolder}/$appId.secret", secret))) ++
      (if (keytab.nonEmpty)
        Seq(Future(copyPrivate(keytab, s"${contract.recordsFolder}/$appId${LaunchContract.KeytabSuffix}")))
      else Nil)
    val contractFile = writes.map(Await.result(_, scala.concurrent.duration.Duration.Inf)).head

    val classpath = (Seq(Environment.CLASSPATH.$$(), Environment.PWD.$$() + "/" + LaunchContract.JarName) ++
      conf.getStrings(YarnConfiguration.YARN_APPLICATION_CLASSPATH,
        YarnConfiguration.DEFAULT_YARN_CROSS_PLATFORM_APPLICATION_CLASSPATH: _*).map(_.trim))
      .mkString(ApplicationConstants.CLASS_PATH_SEPARATOR)
    val command = AmLaunch.command(s"-Xmx${contract.amHeapMb}m" +: contract.amJavaOptions)

    val launch = Records.newRecord(classOf[ContainerLaunchContext])
    // The AM reads contract and secret from HDFS as the application's user: localizing
    // them PRIVATE would cost a localizer process (a JVM) on its node, ~1 s here.
    // (A driver's files are localized here too: it runs in this container.)
    launch.setLocalResources((Map(LaunchContract.JarName -> Resources.toLocalResource(contract.jar)) ++
      contract.driver.toSeq.flatMap(_.files).map(r => r.name -> Resources.toLocalResource(r))).asJava)
    val user = UserGroupInformation.getCurrentUser.getShortUserName
    // Without Kerberos the AM's HDFS identity is this variable (as MapReduce's AM does).
    val identity: Map[String, String] =
      if (UserGroupInformation.isSecurityEnabled) Map.empty else Map("HADOOP_USER_NAME" -> user)
    val values = (identity ++ AmLaunch.environment(contract.amBootScript) + (LaunchContract.ContractVar -> contractFile))
      .map { case (k, v) => k -> Client.shellSafe(v) }
    launch.setEnvironment((values + ("CLASSPATH" -> classpath)).asJava) // YARN expands the classpath
    launch.setCommands(java.util.Collections.singletonList(command))
    // A service acting for a user may view and steer what it submitted for them.
    val acls = runAs.map(_.getRealUser.getShortUserName).fold(contract.acls)(Client.grantedTo(contract.acls, _))
    launch.setApplicationACLs(acls.map { case (kind, acl) => ApplicationAccessType.valueOf(kind) -> acl }.asJava)
    // The ApplicationMaster's own copy of contract and secret travels as secret keys of
    // its credentials: YARN hands them to its container alone (a private token file,
    // not a served log), and the ApplicationMaster need not wait on HDFS to start.
    val credentials = new Credentials()
    credentials.addSecretKey(LaunchContract.ContractKey, contractJson.getBytes(UTF_8))
    credentials.addSecretKey(LaunchContract.SecretKey, secret.getBytes(UTF_8))
    if (UserGroupInformation.isSecurityEnabled) {
      Client.addDelegationTokens(conf, credentials, contract.fileSystems)
      // So that a container may submit applications (or ask YARN about this one).
      if (contract.rmDelegationToken) addRMDelegationToken(credentials)
    }
    launch.setTokens(Client.serialize(credentials))
    context.setAMContainerSpec(launch)

    yarn.submitApplication(context)
    appId
  }

  /** A ResourceManager delegation token, renewed by the ResourceManager itself (it
    * cancels it when the application ends), for the ApplicationMaster's credentials:
    * it hands it to the containers with the others. */
  private def addRMDelegationToken(credentials: Credentials): Unit = {
    val yarnToken = yarn.getRMDelegationToken(new org.apache.hadoop.io.Text(Client.renewer(conf)))
    val service = org.apache.hadoop.yarn.client.ClientRMProxy.getRMDelegationTokenService(conf)
    val token = new org.apache.hadoop.security.token.Token[org.apache.hadoop.security.token.TokenIdentifier](
      yarnToken.getIdentifier.array, yarnToken.getPassword.array,
      new org.apache.hadoop.io.Text(yarnToken.getKind), service)
    credentials.addToken(service, token)
  }

  /** Move a running application to another queue (the scheduler checks the caller
    * may, and that the queue exists and accepts it). */
  def moveApplication(appId: String, queue: String): Unit =
    as(yarn.moveApplicationAcrossQueues(ApplicationId.fromString(appId), queue))

  def close(): Unit = synchronized {
    if (yarnClient != null) yarnClient.stop()
    yarnClient = null
  }
}

object Client {
  /** YARN application ACLs (`"users groups"` by kind) with `user` added to viewing and
    * modifying (kinds not given are created). */
  def grantedTo(acls: Map[String, String], user: String): Map[String, String] =
    Seq("VIEW_APP", "MODIFY_APP").foldLeft(acls) { (granted, kind) =>
      val (users, groups) = granted.getOrElse(kind, "").span(_ != ' ')
      val named = users.split(',').map(_.trim).filter(_.nonEmpty)
      val allowed = if (named.contains("*") || named.contains(user)) users else (named :+ user).mkString(",")
      granted + (kind -> (allowed + groups))
    }
  /** A value YARN can put in its launch script's `export NAME="value"` unharmed. */
  def shellSafe(value: String): String = {
    if (value.exists(c => "\"$`\\\n".contains(c)))
      throw new IllegalArgumentException(s"$value cannot be passed through YARN's launch script")
    value
  }

  /** One word for the shell that runs YARN's launch command. */
  def shellQuote(word: String): String = "'" + word.replace("'", "'\\''") + "'"

  /** New HDFS delegation tokens for one application, renewed by the ResourceManager
    * (it cancels them when the application ends: every submission needs its own). */
  def addDelegationTokens(conf: YarnConfiguration, credentials: Credentials, others: Seq[String] = Nil): Unit = {
    val renewer = Client.renewer(conf)
    FileSystem.get(conf).addDelegationTokens(renewer, credentials)
    // The other file systems the application names (Skein's `file_systems`).
    others.foreach(uri => new Path(uri).getFileSystem(conf).addDelegationTokens(renewer, credentials))
  }

  /** The ResourceManager's principal: the renewer of an application's delegation tokens.
    * With HA, the first ResourceManager's (either may renew: YARN compares short names);
    * its address is read by rm-id, since Hadoop's own lookup refuses a host on which
    * both ResourceManagers' addresses are local (the HA local cluster). */
  def renewer(conf: YarnConfiguration): String = {
    val firstOfPair = if (!org.apache.hadoop.yarn.conf.HAUtil.isHAEnabled(conf)) None
      else org.apache.hadoop.yarn.conf.HAUtil.getRMHAIds(conf).asScala.headOption
        .flatMap(id => Option(conf.get(s"${YarnConfiguration.RM_ADDRESS}.$id")))
    val rmHost = firstOfPair.map(a => org.apache.hadoop.net.NetUtils.createSocketAddr(a).getHostName)
      .getOrElse(conf.getSocketAddr(YarnConfiguration.RM_ADDRESS, YarnConfiguration.DEFAULT_RM_ADDRESS,
        YarnConfiguration.DEFAULT_RM_PORT).getHostName)
    val renewer = SecurityUtil.getServerPrincipal(conf.get(YarnConfiguration.RM_PRINCIPAL, ""), rmHost)
    if (renewer.isEmpty)
      throw new IllegalArgumentException(s"${YarnConfiguration.RM_PRINCIPAL} is not set: the cluster's " +
        "yarn-site.xml must name the ResourceManager's principal (the renewer of delegation tokens)")
    renewer
  }

  def serialize(credentials: Credentials): ByteBuffer = {
    val buffer = new DataOutputBuffer()
    credentials.writeTokenStorageToStream(buffer)
    ByteBuffer.wrap(buffer.getData, 0, buffer.getLength)
  }
}
