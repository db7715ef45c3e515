package knit.contract

/** Everything an application is launched with, as Python wrote it (`knit/contract.py`):
  * one JSON document, read by the client for submission and by the ApplicationMaster
  * from its PRIVATE local file [[LaunchContract.FileName]]. Nothing of it travels in an
  * environment variable or on a command line, so no shell ever re-parses a value.
  */
final case class LaunchContract(
    appName: String,
    appType: String,
    queue: String,
    tags: Seq[String],
    acls: Map[String, String],
    maxAttempts: Int,
    amMemoryMb: Int,
    amVcores: Int,
    amHeapMb: Int,
    amBootScript: String,
    amJavaOptions: Seq[String],
    jar: Resources.Described,
    services: Map[String, ServiceSpec],
    keepAlive: Boolean,
    allocationTimeoutMs: Long,
    clientTimeoutMs: Long,
    recordsFolder: String,
    kerberosPrincipal: String
) {
  /** The application's one service (the contract's `services` has exactly one, by name,
    * so applications of several services extend it rather than replace it). */
  def workers: ServiceSpec = services.values.head
}

/** One service's containers: how many, how big, what they run and receive, how often a
  * failed one is replaced (`maxRestarts`, -1 for always), how many failing in a row
  * within `startGraceMs` of starting end the application (`maxStartFailures`, 0 for
  * no limit: see [[ContainerTracker]]), whether they may set
  * values in the key-value store (`kvAccess`: they get the control secret), and how
  * many of them each node could hold at submission (`nodes`, see [[Locality]]). */
final case class ServiceSpec(
    target: Int,
    memoryMb: Int,
    vcores: Int,
    priority: Int,
    maxRestarts: Int,
    maxStartFailures: Int,
    startGraceMs: Long,
    kvAccess: Boolean,
    bootScript: String,
    resources: Seq[Resources.Described],
    nodes: Map[String, Int]
)

object LaunchContract {
  val SchemaVersion = 2
  val JarName = "knit.jar"
  /** The variable naming the contract's HDFS file (`<records>/<app>.launch.json`, mode
    * 600); the secret is beside it (`<app>.secret`). Only a path: no secret, no value
    * of the user's. */
  val ContractVar = "KNIT_CONTRACT"
  /** The keytab the client ships beside the contract (`<app>.keytab`, mode 600) when it
    * was given one: the ApplicationMaster logs in with it to renew delegation tokens. */
  val KeytabSuffix = ".keytab"
  /** The control secret's file in the workers' working folder (with key-value access). */
  val SecretName = "knit-control.secret"
  /** The secret keys under which the client puts contract and secret in the
    * ApplicationMaster's credentials (YARN's private token file of its container). */
  def ContractKey = new org.apache.hadoop.io.Text("knit.contract")
  def SecretKey = new org.apache.hadoop.io.Text("knit.secret")

  /** Contract and secret from this container's token file, if the client put them there. */
  def fromContainerTokens(conf: org.apache.hadoop.conf.Configuration): Option[(String, String)] =
    sys.env.get("HADOOP_TOKEN_FILE_LOCATION").filter(new java.io.File(_).isFile).flatMap { file =>
      val credentials = org.apache.hadoop.security.Credentials.readTokenStorageFile(new java.io.File(file), conf)
      for {
        contract <- Option(credentials.getSecretKey(ContractKey))
        secret <- Option(credentials.getSecretKey(SecretKey))
      } yield (new String(contract, "UTF-8"), new String(secret, "UTF-8"))
    }

  /** Parse the contract.
    *
    * @throws IllegalArgumentException naming the missing or mistyped field, or a
    *         schema version this jar does not know
    */
  def fromJson(text: String): LaunchContract = {
    val root = Fields(Json.parse(text), "contract")
    val schema = root.int("schema")
    if (schema != SchemaVersion)
      throw new IllegalArgumentException(s"launch contract schema $schema; this knit jar reads $SchemaVersion")
    val app = root.obj("application")
    val am = root.obj("am")
    val services = root.obj("services")
    if (services.raw.size != 1)
      throw new IllegalArgumentException(s"the contract names ${services.raw.size} services " +
        s"(${services.raw.keys.mkString(", ")}); this knit jar runs one per application")
    LaunchContract(
      appName = app.string("name"),
      appType = app.string("type"),
      queue = app.string("queue"),
      tags = app.list("tags").map(_.toString),
      acls = app.obj("acls").raw.map { case (k, v) => k -> v.toString },
      maxAttempts = app.int("max_attempts"),
      amMemoryMb = am.int("memory_mb"),
      amVcores = am.int("vcores"),
      amHeapMb = am.int("heap_mb"),
      amBootScript = am.string("boot_script"),
      amJavaOptions = am.list("java_options").map(_.toString),
      jar = resource(am.obj("jar")),
      services = services.raw.keys.map(name => name -> service(services.obj(name))).toMap,
      keepAlive = root.bool("keep_alive"),
      allocationTimeoutMs = (root.number("allocation_timeout_s") * 1000).toLong,
      clientTimeoutMs = (root.number("client_timeout_s") * 1000).toLong,
      recordsFolder = root.string("records_folder"),
      kerberosPrincipal = root.string("kerberos_principal")
    )
  }

  private def service(workers: Fields): ServiceSpec = ServiceSpec(
    target = workers.int("target"),
    memoryMb = workers.int("memory_mb"),
    vcores = workers.int("vcores"),
    priority = workers.int("priority"),
    maxRestarts = workers.int("max_restarts"),
    maxStartFailures = workers.int("max_start_failures"),
    startGraceMs = (workers.number("start_grace_s") * 1000).toLong,
    kvAccess = workers.bool("kv_access"),
    bootScript = workers.string("boot_script"),
    resources = workers.list("resources").map(r => resource(Fields(r, "resource"))),
    nodes = {
      val nodes = workers.obj("nodes")
      nodes.raw.keys.map(host => host -> nodes.int(host)).toMap
    })

  /** A text file of HDFS (or any Hadoop file system). */
  def readFile(conf: org.apache.hadoop.conf.Configuration, uri: String): String = {
    val path = new org.apache.hadoop.fs.Path(uri)
    val in = path.getFileSystem(conf).open(path)
    try new String(in.readAllBytes(), "UTF-8") finally in.close()
  }

  private def resource(f: Fields): Resources.Described =
    Resources.Described(f.string("name"), f.string("uri"), f.string("kind"), f.string("visibility"),
      f.number("size").toLong, f.number("timestamp").toLong)

  /** Typed access to a parsed JSON object, with errors naming the field. */
  private final case class Fields(value: Any, where: String) {
    val raw: Map[String, Any] = value match {
      case m: Map[_, _] => m.asInstanceOf[Map[String, Any]]
      case other => throw new IllegalArgumentException(s"$where must be an object, not $other")
    }
    private def get(key: String): Any =
      raw.getOrElse(key, throw new IllegalArgumentException(s"$where has no '$key'"))
    private def typed[T](key: String, kind: String)(pf: PartialFunction[Any, T]): T =
      pf.applyOrElse(get(key), (v: Any) => throw new IllegalArgumentException(s"$where.$key must be $kind, not $v"))
    def string(key: String): String = typed(key, "a string") { case s: String => s }
    def number(key: String): BigDecimal = typed(key, "a number") { case n: BigDecimal => n }
    def int(key: String): Int = typed(key, "a whole number") { case n: BigDecimal if n.isValidInt => n.toInt }
    def bool(key: String): Boolean = typed(key, "true or false") { case b: Boolean => b }
    def list(key: String): Seq[Any] = typed(key, "a list") { case s: Seq[_] => s }
    def obj(key: String): Fields = Fields(get(key), s"$where.$key")
  }
}
