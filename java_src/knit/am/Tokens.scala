package knit.am

import java.nio.ByteBuffer
import java.nio.file.Files
import java.nio.file.attribute.PosixFilePermissions
import java.util.concurrent.{Executors, TimeUnit}

import scala.jdk.CollectionConverters._

import org.apache.hadoop.conf.Configuration
import org.apache.hadoop.fs.{FileSystem, Path}
import org.apache.hadoop.io.DataOutputBuffer
import org.apache.hadoop.security.{Credentials, UserGroupInformation}
import org.apache.hadoop.security.token.Token
import org.apache.hadoop.security.token.delegation.AbstractDelegationTokenIdentifier
import org.apache.hadoop.yarn.security.AMRMTokenIdentifier

/** Delegation tokens on a Kerberized cluster: what the worker containers receive.
  *
  * Without a keytab the workers get the tokens the client obtained at submission
  * (the ResourceManager renews them until their maximum lifetime). With one, a
  * [[TokenRefresher]] logs in from it and fetches new tokens before the old ones
  * lapse, so containers started late in a long-running application still start and
  * still reach HDFS.
  */
object Tokens {
  /** The tokens a worker container may hold: all of `credentials` but the AMRM token
    * (which would let it speak to the ResourceManager as this ApplicationMaster). */
  def forContainers(credentials: Credentials, secrets: Map[String, Array[Byte]] = Map.empty): ByteBuffer = {
    val kept = new Credentials()
    credentials.getAllTokens.asScala.filter(_.getKind != AMRMTokenIdentifier.KIND_NAME)
      .foreach(token => kept.addToken(token.getService, token))
    secrets.foreach { case (key, value) => kept.addSecretKey(new org.apache.hadoop.io.Text(key), value) }
    val buffer = new DataOutputBuffer()
    kept.writeTokenStorageToStream(buffer)
    ByteBuffer.wrap(buffer.getData, 0, buffer.getLength)
  }

  /** The tokens of this process's user now (read once per container launch), and
    * `secrets`: keys only that container's token file holds (the NodeManager writes
    * it into the container's private folder, `$HADOOP_TOKEN_FILE_LOCATION`). */
  def current(secrets: Map[String, Array[Byte]] = Map.empty): ByteBuffer =
    if (UserGroupInformation.isSecurityEnabled)
      forContainers(UserGroupInformation.getCurrentUser.getCredentials, secrets)
    else if (secrets.nonEmpty) forContainers(new Credentials(), secrets)
    else null

  /** Copy the keytab the client shipped beside the contract to a private local file. */
  def fetchKeytab(conf: Configuration, hdfsPath: String, local: java.nio.file.Path): java.nio.file.Path = {
    val path = new Path(hdfsPath)
    val in = path.getFileSystem(conf).open(path)
    val bytes = try in.readAllBytes() finally in.close()
    Files.deleteIfExists(local)
    Files.createFile(local, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))
    Files.write(local, bytes)
    local
  }
}

/** Keeps this process's HDFS delegation tokens fresh from a keytab.
  *
  * Every round it logs in (re-login from the keytab when the ticket ages), fetches
  * new HDFS tokens naming the principal itself as renewer, renews every token it
  * fetched earlier that is still within its maximum lifetime (containers started
  * with them keep reading HDFS), and adds the new ones to this process's user, so
  * both the ApplicationMaster's own HDFS calls and the containers it launches next
  * use them. The next round comes at half of the shortest time a token has left.
  */
final class TokenRefresher(conf: Configuration, principal: String, keytab: String, log: String => Unit) {
  private val ugi = UserGroupInformation.loginUserFromKeytabAndReturnUGI(principal, keytab)
  private val renewer = ugi.getShortUserName
  private var issued: List[Token[_]] = Nil
  private val timer = Executors.newSingleThreadScheduledExecutor((r: Runnable) => {
    val t = new Thread(r, "knit-token-refresher"); t.setDaemon(true); t
  })

  def start(): Unit = timer.execute(() => round())

  def stop(): Unit = timer.shutdownNow()

  private def round(): Unit = {
    val delayMs = try refresh() catch {
      case e: Exception =>
        log(s"refreshing delegation tokens failed (trying again in 30 s): $e")
        30000L
    }
    if (!timer.isShutdown) timer.schedule((() => round()): Runnable, delayMs, TimeUnit.MILLISECONDS)
  }

  /** One round; returns the delay until the next. */
  private def refresh(): Long = {
    ugi.checkTGTAndReloginFromKeytab()
    val fresh = new Credentials()
    val fetched = ugi.doAs(new java.security.PrivilegedExceptionAction[Seq[Token[_]]] {
      def run(): Seq[Token[_]] = FileSystem.get(conf).addDelegationTokens(renewer, fresh).toSeq
    })
    val now = System.currentTimeMillis()
    issued = (fetched.toList ++ issued).filter(maxDate(_) > now)
    val expiries = issued.map(token => ugi.doAs(new java.security.PrivilegedExceptionAction[Long] {
      def run(): Long = token.renew(conf)
    }))
    UserGroupInformation.getCurrentUser.addCredentials(fresh)
    val soonest = (expiries ++ fetched.map(maxDate)).minOption.getOrElse(now + 3600000L)
    val delay = math.max(5000L, (soonest - now) / 2)
    log(s"fetched ${fetched.size} new delegation token(s), renewed ${issued.size}; next in ${delay / 1000} s")
    delay
  }

  private def maxDate(token: Token[_]): Long = token.decodeIdentifier() match {
    case id: AbstractDelegationTokenIdentifier => id.getMaxDate
    case _ => Long.MaxValue
  }
}
