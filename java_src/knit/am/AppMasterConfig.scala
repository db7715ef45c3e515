package knit.am

/** The ApplicationMaster's settings, read from its environment.
  *
  * Python sets them through the client at submission; nothing travels on a command
  * line, the control secret included.
  */
final case class AppMasterConfig(
    numContainers: Int,
    memoryMb: Int,
    vcores: Int,
    priority: Int,
    bootScriptB64: String,
    forwardedEnv: Map[String, String],
    resources: Seq[Resources.Described],
    controlSecret: String,
    allocationTimeoutMs: Long,
    keepAlive: Boolean = false,
    clientTimeoutMs: Long = 0L
)

object AppMasterConfig {
  val ApplicationType = "knit"
  val JarName = "knit.jar"
  /** The control secret's file in the ApplicationMaster's working folder (never in its env). */
  val SecretName = "knit-control.secret"
  val ResourcesVar = "KNIT_RESOURCES"

  /** The --add-opens flags Hadoop needs on Java 17 (ignored by older JVMs). */
  val JavaOpens: String = ("-XX:+IgnoreUnrecognizedVMOptions" +: Seq(
    "java.io", "java.lang", "java.lang.reflect", "java.math", "java.net", "java.nio", "java.text",
    "java.util", "java.util.concurrent", "java.util.zip", "sun.nio.ch", "sun.security.util",
    "sun.security.x509").map(p => s"--add-opens=java.base/$p=ALL-UNNAMED")).mkString(" ")

  def fromEnv(env: Map[String, String],
              readSecret: () => String = () => readFile(SecretName)): AppMasterConfig = {
    def need(key: String): String =
      env.getOrElse(key, throw new IllegalArgumentException(s"$key is not set"))
    def words(key: String): Seq[String] = env.getOrElse(key, "").split(" ").toSeq.filter(_.nonEmpty)
    val forwarded = words("KNIT_ENVVAR_NAMES").flatMap(name => env.get(name).map(name -> _)).toMap
    AppMasterConfig(
      numContainers = need("KNIT_NUM_CONTAINERS").toInt,
      memoryMb = need("KNIT_MEMORY_MB").toInt,
      vcores = need("KNIT_VCORES").toInt,
      priority = env.getOrElse("KNIT_PRIORITY", "1").toInt,
      bootScriptB64 = need("KNIT_BOOT_B64"),
      forwardedEnv = forwarded,
      resources = Resources.decode(env.getOrElse(ResourcesVar, "")).filter(_.name != JarName),
      controlSecret = readSecret(),
      allocationTimeoutMs = (env.getOrElse("KNIT_ALLOCATION_TIMEOUT", "300").toDouble * 1000).toLong,
      keepAlive = env.get("KNIT_KEEP_ALIVE").contains("1"),
      clientTimeoutMs = (env.getOrElse("KNIT_CLIENT_TIMEOUT", "0").toDouble * 1000).toLong
    )
  }

  private def readFile(name: String): String =
    new String(java.nio.file.Files.readAllBytes(java.nio.file.Paths.get(name)), "UTF-8").trim
}
