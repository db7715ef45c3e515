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
    amExtraResources: Map[String, Long],
    amNodeLabel: String,
    amLogLevel: String,
    jar: Resources.Described,
    driver: Option[DriverSpec],
    services: Map[String, ServiceSpec],
    keepAlive: Boolean,
    allocationTimeoutMs: Long,
    clientTimeoutMs: Long,
    recordsFolder: String,
    kerberosPrincipal: String,
    priority: Int,
    lifetimeS: Long,
    attemptFailuresValidityMs: Long,
    fileSystems: Seq[String],
    rmDelegationToken: Boolean
) {
  /** The services in the order of their priorities (the first is the default one of
    * control calls that name none: `Knit.start`'s only service). */
  def ordered: Seq[(String, ServiceSpec)] = services.toSeq.sortBy(_._2.priority)

  /** The first service (`Knit.start`'s only one). */
  def workers: ServiceSpec = ordered.head._2
}

/** A user's script run in the ApplicationMaster's container beside it (Skein's
  * `master.script`): the application ends when it exits, with its exit code deciding
  * the final status. Its files are localized into the ApplicationMaster's container. */
final case class DriverSpec(bootScript: String, env: Map[String, String], files: Seq[Resources.Described])

/** One service's containers: how many, how big (memory, vcores and any other YARN
  * resource type, `extraResources`), what they run and receive, how often a failed one
  * is replaced (`maxRestarts`, -1 for always) and whether failures beyond that end the
  * application (`allowFailures`: not), how many failing in a row within `startGraceMs`
  * of starting end the application (`maxStartFailures`, 0 for no limit: see
  * [[ContainerTracker]]), whether they may set values in the key-value store
  * (`kvAccess`: they get the control secret), which services must run first
  * (`depends`), where they may run (`nodeLabel`, or `nodes`/`racks` with
  * `relaxLocality`; `onePerNode`: never two on a node, through YARN's placement
  * constraints), and how many of them each node could hold at submission (`room`,
  * see [[Locality]]). `env` is also exported by the boot script, byte-exact; its
  * entries YARN's launch script can carry go into the launch context too, for the
  * NodeManager (a container runtime's settings). */
final case class ServiceSpec(
    target: Int,
    memoryMb: Int,
    vcores: Int,
    extraResources: Map[String, Long],
    priority: Int,
    maxRestarts: Int,
    allowFailures: Boolean,
    /** A container failing with no restart left fails the application (Skein's
      * rule for specs); else (``Knit.start``'s jobs) the others run on. */
    failWithoutRestarts: Boolean,
    maxStartFailures: Int,
    startGraceMs: Long,
    kvAccess: Boolean,
    env: Map[String, String],
    bootScript: String,
    files: Seq[Resources.Described],
    depends: Seq[String],
    nodeLabel: String,
    nodes: Seq[String],
    racks: Seq[String],
    relaxLocality: Boolean,
    onePerNode: Boolean,
    room: Map[String, Int]
)

object LaunchContract {
  val SchemaVersion = 3
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
    if (services.raw.isEmpty) throw new IllegalArgumentException("the contract names no service")
    val parsed = services.raw.keys.map(name => name -> service(services.obj(name))).toMap
    for ((name, s) <- parsed; d <- s.depends if !parsed.contains(d))
      throw new IllegalArgumentException(s"service $name depends on $d, which the contract does not name")
    if (parsed.values.map(_.priority).toSet.size != parsed.size)
      throw new IllegalArgumentException("the contract's services must have distinct priorities")
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
      amExtraResources = counts(am.obj("resources")),
      amNodeLabel = am.string("node_label"),
      amLogLevel = am.string("log_level"),
      jar = resource(am.obj("jar")),
      driver = root.raw.get("driver").filter(_ != null).map(_ => driver(root.obj("driver"))),
      services = parsed,
      keepAlive = root.bool("keep_alive"),
      allocationTimeoutMs = (root.number("allocation_timeout_s") * 1000).toLong,
      clientTimeoutMs = (root.number("client_timeout_s") * 1000).toLong,
      recordsFolder = root.string("records_folder"),
      kerberosPrincipal = root.string("kerberos_principal"),
      priority = app.int("priority"),
      lifetimeS = app.number("lifetime_s").toLong,
      attemptFailuresValidityMs = (app.number("attempt_failures_validity_s") * 1000).toLong,
      fileSystems = app.list("file_systems").map(_.toString),
      rmDelegationToken = app.bool("rm_delegation_token")
    )
  }

  private def driver(f: Fields): DriverSpec = DriverSpec(f.string("boot_script"), strings(f.obj("env")),
    f.list("files").map(r => resource(Fields(r, "resource"))))

  private def strings(f: Fields): Map[String, String] = f.raw.keys.map(k => k -> f.string(k)).toMap

  private def counts(f: Fields): Map[String, Long] = f.raw.keys.map { k =>
    val n = f.number(k)
    if (!n.isWhole || n < 0) throw new IllegalArgumentException(s"${f.where}.$k must be a count, not $n")
    k -> n.toLong
  }.toMap

  private def service(s: Fields): ServiceSpec = ServiceSpec(
    target = s.int("target"),
    memoryMb = s.int("memory_mb"),
    vcores = s.int("vcores"),
    extraResources = counts(s.obj("resources")),
    priority = s.int("priority"),
    maxRestarts = s.int("max_restarts"),
    allowFailures = s.bool("allow_failures"),
    failWithoutRestarts = s.bool("fail_without_restarts"),
    maxStartFailures = s.int("max_start_failures"),
    startGraceMs = (s.number("start_grace_s") * 1000).toLong,
    kvAccess = s.bool("kv_access"),
    env = strings(s.obj("env")),
    bootScript = s.string("boot_script"),
    files = s.list("files").map(r => resource(Fields(r, "file"))),
    depends = s.list("depends").map(_.toString),
    nodeLabel = s.string("node_label"),
    nodes = s.list("nodes").map(_.toString),
    racks = s.list("racks").map(_.toString),
    relaxLocality = s.bool("relax_locality"),
    onePerNode = s.bool("one_per_node"),
    room = {
      val room = s.obj("room")
      room.raw.keys.map(host => host -> room.int(host)).toMap
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
