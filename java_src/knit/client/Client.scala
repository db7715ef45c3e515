package knit.client

import java.nio.ByteBuffer
import java.util.{HashMap => JHashMap, List => JList, Map => JMap}

import scala.jdk.CollectionConverters._

import org.apache.hadoop.fs.{FileSystem, Path}
import org.apache.hadoop.fs.permission.FsPermission
import org.apache.hadoop.io.DataOutputBuffer
import org.apache.hadoop.security.UserGroupInformation
import org.apache.hadoop.yarn.api.ApplicationConstants
import org.apache.hadoop.yarn.api.ApplicationConstants.Environment
import org.apache.hadoop.yarn.api.records._
import org.apache.hadoop.yarn.client.api.YarnClient
import org.apache.hadoop.yarn.conf.YarnConfiguration
import org.apache.hadoop.yarn.util.Records

import knit.am.{AppMasterConfig, Resources}

/** What Python calls through the gateway: HDFS staging and application submission.
  *
  * Every method takes and returns plain values (strings, numbers, lists, maps).
  */
class Client {
  private val conf = new YarnConfiguration()
  private var yarnClient: YarnClient = _

  /** Set a Hadoop property (a `pars=` entry or a knit override) before first use. */
  def set(key: String, value: String): Unit = conf.set(key, value)

  def hadoopVersion(): String = org.apache.hadoop.util.VersionInfo.getVersion

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

  def homeDirectory(): String = fs.getHomeDirectory.toString

  /** Size, modification time and permission of an HDFS path, or null if absent. */
  def fileStatus(path: String): JMap[String, Any] = {
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
  def mkdirs(path: String, permission: String): String = {
    val p = new Path(path)
    val perm = new FsPermission(Integer.parseInt(permission, 8).toShort)
    fs.mkdirs(p, perm)
    fs.setPermission(p, perm) // mkdirs applies the umask; this does not
    fs.makeQualified(p).toString
  }

  /** Copy a local file to HDFS with a replication factor and an octal permission. */
  def upload(local: String, remote: String, replication: Int, permission: String): JMap[String, Any] = {
    val target = new Path(remote)
    fs.copyFromLocalFile(false, true, new Path(local), target)
    fs.setReplication(target, replication.toShort)
    fs.setPermission(target, new FsPermission(Integer.parseInt(permission, 8).toShort))
    fileStatus(fs.makeQualified(target).toString)
  }

  def writeText(remote: String, text: String): Unit = {
    val out = fs.create(new Path(remote), true)
    try out.write(text.getBytes("UTF-8")) finally out.close()
  }

  def readText(remote: String): String = {
    val p = new Path(remote)
    if (!fs.exists(p)) null
    else {
      val in = fs.open(p)
      try new String(in.readAllBytes(), "UTF-8") finally in.close()
    }
  }

  /** Move a file into place, replacing what is there (used to publish finished uploads). */
  def rename(from: String, to: String): Boolean = {
    val target = new Path(to)
    if (fs.exists(target)) fs.delete(target, false)
    fs.rename(new Path(from), target)
  }

  def delete(remote: String): Boolean = fs.delete(new Path(remote), true)

  /** Files directly inside an HDFS folder (empty if it does not exist). */
  def listFiles(folder: String): JList[JMap[String, Any]] = {
    val p = new Path(folder)
    if (!fs.exists(p)) new java.util.ArrayList[JMap[String, Any]]()
    else fs.listStatus(p).toSeq.map(s => fileStatus(s.getPath.toString)).asJava
  }

  /** Submit the knit ApplicationMaster.
    *
    * @param appName     name shown by YARN
    * @param queue       scheduler queue
    * @param amMemory    MB for the ApplicationMaster's container
    * @param amVcores    vcores for it
    * @param amJar       HDFS URI of the knit jar (already uploaded)
    * @param amJarVisibility PUBLIC when every folder above the jar is world-executable
    *                    (NodeManagers then share it between users), else PRIVATE
    * @param resources   files for the worker containers: [name, uri, "FILE"|"ARCHIVE", visibility]
    * @param amEnv       environment of the ApplicationMaster (its settings, user envvars)
    * @param tags        application tags
    * @param acls        application ACLs: {"VIEW_APP"|"MODIFY_APP" -> "users groups"}
    * @param secretUri   HDFS file (mode 600) holding the control secret: localized for the
    *                    ApplicationMaster alone, PRIVATE, so it is in no environment or
    *                    launch script that the NodeManager serves
    * @return the application id
    */
  def submit(appName: String, queue: String, amMemory: Int, amVcores: Int, amJar: String,
             amJarVisibility: String, resources: JList[JList[String]], amEnv: JMap[String, String],
             tags: JList[String], acls: JMap[String, String], secretUri: String): String = {
    val app = yarn.createApplication()
    val context = app.getApplicationSubmissionContext
    context.setApplicationName(appName)
    context.setQueue(queue)
    context.setApplicationType(AppMasterConfig.ApplicationType)
    context.setApplicationTags(new java.util.HashSet[String](tags))
    context.setMaxAppAttempts(1)
    context.setResource(Resource.newInstance(amMemory.toLong, amVcores))

    val workerResources = resources.asScala.map(r => Resources.describe(conf, r.get(0), r.get(1), r.get(2), r.get(3))).toSeq
    val jar = Resources.describe(conf, AppMasterConfig.JarName, amJar, "FILE", amJarVisibility)

    val env = new JHashMap[String, String](amEnv)
    env.put(AppMasterConfig.ResourcesVar, Resources.encode(jar +: workerResources))
    val classpath = (Seq(Environment.CLASSPATH.$$(), Environment.PWD.$$() + "/" + AppMasterConfig.JarName) ++
      conf.getStrings(YarnConfiguration.YARN_APPLICATION_CLASSPATH,
        YarnConfiguration.DEFAULT_YARN_CROSS_PLATFORM_APPLICATION_CLASSPATH: _*).map(_.trim))
      .mkString(ApplicationConstants.CLASS_PATH_SEPARATOR)
    env.put("CLASSPATH", classpath)

    val heapMb = math.max(64, (amMemory * 0.6).toInt)
    val command = Seq(
      Environment.JAVA_HOME.$$() + "/bin/java",
      s"-Xmx${heapMb}m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
      AppMasterConfig.JavaOpens, "knit.am.ApplicationMaster",
      "1>" + ApplicationConstants.LOG_DIR_EXPANSION_VAR + "/am.stdout",
      "2>" + ApplicationConstants.LOG_DIR_EXPANSION_VAR + "/am.stderr"
    ).mkString(" ")

    val launch = Records.newRecord(classOf[ContainerLaunchContext])
    val secret = Resources.describe(conf, AppMasterConfig.SecretName, secretUri, "FILE", "PRIVATE")
    launch.setLocalResources(Map(AppMasterConfig.JarName -> Resources.toLocalResource(jar),
      AppMasterConfig.SecretName -> Resources.toLocalResource(secret)).asJava)
    launch.setEnvironment(env)
    launch.setCommands(java.util.Collections.singletonList(command))
    launch.setApplicationACLs(acls.asScala.map { case (kind, acl) => ApplicationAccessType.valueOf(kind) -> acl }.asJava)
    if (UserGroupInformation.isSecurityEnabled) launch.setTokens(Client.credentialsBuffer(conf))
    context.setAMContainerSpec(launch)

    yarn.submitApplication(context)
    context.getApplicationId.toString
  }

  def close(): Unit = synchronized {
    if (yarnClient != null) yarnClient.stop()
    yarnClient = null
  }
}

object Client {
  /** HDFS delegation tokens for a Kerberos cluster, serialised for a launch context. */
  def credentialsBuffer(conf: YarnConfiguration): ByteBuffer = {
    val credentials = UserGroupInformation.getCurrentUser.getCredentials
    val renewer = conf.get(YarnConfiguration.RM_PRINCIPAL, "")
    FileSystem.get(conf).addDelegationTokens(renewer, credentials)
    val buffer = new DataOutputBuffer()
    credentials.writeTokenStorageToStream(buffer)
    ByteBuffer.wrap(buffer.getData, 0, buffer.getLength)
  }
}
