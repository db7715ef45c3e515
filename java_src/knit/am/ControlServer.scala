package knit.am

import knit.contract._

import java.net.{InetSocketAddress, URLDecoder}
import java.nio.charset.StandardCharsets.UTF_8
import java.security.MessageDigest
import java.util.concurrent.{ArrayBlockingQueue, ThreadPoolExecutor, TimeUnit}

import scala.jdk.CollectionConverters._

import com.sun.net.httpserver.{HttpExchange, HttpServer}

/** The ApplicationMaster's control endpoint, for the client that submitted it (and
  * its containers, which hold the secret as a PRIVATE file).
  *
  *  - `GET /containers`: containers (each with its service), asks pending, targets, restarts
  *  - `POST /containers?service=S&count=N&memory=MB&vcores=V`: ask for N more (a JSON
  *    body `{"env": {...}}` overrides variables of those containers)
  *  - `PUT /containers/target?service=S&n=N&memory=MB&vcores=V`: set the target
  *  - `DELETE /containers/pending?service=S&count=N`: withdraw asks not granted yet
  *  - `DELETE /containers/ID`: stop a container
  *  - `POST /shutdown?status=SUCCEEDED|FAILED|KILLED&diagnostics=TEXT`: end the application
  *  - `PUT /progress?value=P`: the progress YARN shows (0 to 1)
  *  - `POST /heartbeat`: the client is alive (what `client_timeout_s` watches)
  *  (`service` may be left out: the first service, `Knit.start`'s only one.)
  *  - `GET /kv` (values as UTF-8 text), `GET /kv/KEY?wait=S` (`raw=1`: the value's
  *    bytes, not JSON), `DELETE /kv/KEY`, `PUT /kv/KEY` (body: the
  *    value; `owner=CONTAINER`: deleted when that container ends; `expect=VALUE` or
  *    `absent=1`: a compare-and-set, 409 when not met)
  *  - `GET /`: the read-only [[StatusPage]] (no secret; for the ResourceManager's proxy)
  *
  * Every other request must carry the application's secret in the `X-Knit-Secret` header;
  * only such requests count as the client's contact. Requests are served by a few
  * threads, and a connection that does not send its request within
  * [[ControlServer.RequestTimeoutS]] seconds is closed, so a stalled or hostile
  * connection can neither block the endpoint nor keep the application alive.
  */
final class ControlServer(host: String, secret: String, actions: ControlServer.Actions) {
  ControlServer.boundTimeouts()
  private val server = HttpServer.create(new InetSocketAddress(host, 0), 64)
  private val pool = new ThreadPoolExecutor(ControlServer.Threads, ControlServer.Threads, 30, TimeUnit.SECONDS,
    new ArrayBlockingQueue[Runnable](ControlServer.Threads), new ControlServer.RefuseAndRemember(this))
  pool.allowCoreThreadTimeOut(true)
  server.setExecutor(pool)
  server.createContext("/containers", (exchange: HttpExchange) => handle(exchange))
  server.createContext("/kv", (exchange: HttpExchange) => handle(exchange))
  server.createContext("/heartbeat", (exchange: HttpExchange) => handle(exchange))
  server.createContext("/shutdown", (exchange: HttpExchange) => handle(exchange))
  server.createContext("/progress", (exchange: HttpExchange) => handle(exchange))
  server.createContext("/", (exchange: HttpExchange) => page(exchange))

  /** The port, bound already: connections wait in the backlog until [[start]]. */
  val port: Int = server.getAddress.getPort

  def start(): Unit = server.start()

  def stop(): Unit = {
    server.stop(1) // the replies being written are finished first (a shutdown call's own)
    pool.shutdownNow()
  }

  /** When the client last made an authorized request (start-up time before that). */
  @volatile var lastContactMs: Long = System.currentTimeMillis()

  /** When the endpoint last had to turn a connection away, every thread being busy
    * (0: never). While it does, the client may be among those turned away: its
    * silence is then the endpoint's fault, not a sign that it has gone. */
  @volatile var lastRefusalMs: Long = 0L

  /** Whether the client has been silent for `timeoutMs` while the endpoint could
    * have served it all along. */
  def clientGone(timeoutMs: Long, nowMs: Long = System.currentTimeMillis()): Boolean =
    nowMs - lastContactMs > timeoutMs && nowMs - lastRefusalMs > timeoutMs

  /** Who calls: the client (the application's secret), a live container (its own
    * credential, [[ControlServer.credential]], with its id in `X-Knit-Container`), or
    * no one known. */
  private def caller(exchange: HttpExchange): Option[ControlServer.Caller] = {
    val given = Option(exchange.getRequestHeaders.getFirst("X-Knit-Secret")).getOrElse("").getBytes(UTF_8)
    Option(exchange.getRequestHeaders.getFirst("X-Knit-Container")) match {
      case None => if (MessageDigest.isEqual(given, secret.getBytes(UTF_8))) Some(ControlServer.Client) else None
      case Some(id) =>
        val expected = ControlServer.credential(secret, id).getBytes(UTF_8)
        if (MessageDigest.isEqual(given, expected) && actions.isLiveContainer(id)) Some(ControlServer.FromContainer(id))
        else None
    }
  }

  private def handle(exchange: HttpExchange): Unit = {
    val (code, contentType, bytes) =
      try {
        caller(exchange) match {
          case None => json(403, ControlReplies.error("missing or wrong X-Knit-Secret (or the container has ended)"))
          case Some(who) =>
            if (who == ControlServer.Client) lastContactMs = System.currentTimeMillis()
            rawValue(exchange).getOrElse { val (c, body) = route(exchange, who); json(c, body) }
        }
      } catch {
        case e: NumberFormatException => json(400, ControlReplies.error(s"bad number: ${e.getMessage}"))
        case e: Exception => json(500, ControlReplies.error(e.toString))
      }
    exchange.getResponseHeaders.set("Content-Type", contentType)
    exchange.sendResponseHeaders(code, bytes.length.toLong)
    exchange.getResponseBody.write(bytes)
    exchange.close()
  }

  private def json(code: Int, body: String): (Int, String, Array[Byte]) = (code, "application/json", body.getBytes(UTF_8))

  /** `GET /kv/KEY?raw=1`: the value's bytes as they were put (404 as JSON). */
  private def rawValue(exchange: HttpExchange): Option[(Int, String, Array[Byte])] = {
    val path = exchange.getRequestURI.getPath.stripSuffix("/")
    val q = query(exchange)
    val key = path.stripPrefix("/kv/")
    if (exchange.getRequestMethod != "GET" || !path.startsWith("/kv/") || !q.get("raw").contains("1") ||
      KeyValueStore.badKey(key).nonEmpty) None
    else Some(actions.keyValues.getBytes(key, waitMillis(q)) match {
      case Some(value) => (200, "application/octet-stream", value)
      case None => json(404, ControlReplies.error(s"no key '$key'"))
    })
  }

  private def waitMillis(q: Map[String, String]): Long =
    (math.min(ControlServer.MaxWaitS, q.getOrElse("wait", "0").toDouble) * 1000).toLong

  /** `GET /`: the read-only status page, without the secret, to the ResourceManager's
    * proxy only (anyone else is sent to the proxy), for the users YARN's view ACL
    * allows (the proxy names its user in a `proxy-user` cookie). */
  private def page(exchange: HttpExchange): Unit = {
    val method = exchange.getRequestMethod
    val (code, body) =
      try {
        if (exchange.getRequestURI.getPath != "/") (404, "no such page")
        else if (method != "GET" && method != "HEAD") (405, "this page is read-only")
        else if (!actions.servesPageTo(exchange.getRemoteAddress.getAddress)) {
          exchange.getResponseHeaders.set("Location", actions.pageProxyUrl)
          (302, s"see ${actions.pageProxyUrl}")
        } else {
          val cookies = Option(exchange.getRequestHeaders.get("Cookie")).map(_.asScala.toSeq).getOrElse(Nil)
          val user = StatusPage.proxyUser(cookies)
          if (actions.mayView(user)) (200, actions.statusPage())
          else (403, s"${user.getOrElse("an anonymous user")} may not view this application (YARN's view ACL)")
        }
      } catch { case e: Exception => (500, e.toString) }
    val bytes = body.getBytes(UTF_8)
    exchange.getResponseHeaders.set("Content-Type",
      if (code == 200) "text/html; charset=utf-8" else "text/plain; charset=utf-8")
    exchange.getResponseHeaders.set("Cache-Control", "no-store")
    if (method == "HEAD") exchange.sendResponseHeaders(code, -1)
    else {
      exchange.sendResponseHeaders(code, bytes.length.toLong)
      exchange.getResponseBody.write(bytes)
    }
    exchange.close()
  }

  private def query(exchange: HttpExchange): Map[String, String] =
    Option(exchange.getRequestURI.getRawQuery).getOrElse("").split("&").toSeq.filter(_.contains("="))
      .map { pair => val Array(k, v) = pair.split("=", 2); k -> URLDecoder.decode(v, UTF_8) }.toMap

  private def route(exchange: HttpExchange, who: ControlServer.Caller): (Int, String) = {
    val path = exchange.getRequestURI.getPath.stripSuffix("/")
    val q = query(exchange)
    def count = q.getOrElse("count", "1").toInt
    val service = q.get("service")
    (exchange.getRequestMethod, path) match {
      case ("GET", "/containers") => (200, actions.list())
      case ("POST", "/containers") =>
        ControlServer.envOverrides(exchange.getRequestBody.readNBytes(ControlServer.MaxBodyBytes + 1)) match {
          case Left(why) => (400, ControlReplies.error(why))
          case Right(env) => actions.add(service, count, q.get("memory").map(_.toInt), q.get("vcores").map(_.toInt), env)
        }
      case ("PUT", "/containers/target") =>
        actions.scale(service, q.getOrElse("n", "-1").toInt, q.get("memory").map(_.toInt), q.get("vcores").map(_.toInt))
      case ("DELETE", "/containers/pending") =>
        if (count < 1) (400, ControlReplies.error("count must be >= 1"))
        else actions.withdraw(service, count)
      case ("DELETE", p) if p.startsWith("/containers/") => actions.remove(p.stripPrefix("/containers/"))
      case ("POST", "/shutdown") => actions.shutdown(q.getOrElse("status", "SUCCEEDED"), q.getOrElse("diagnostics", ""))
      case ("PUT", "/progress") => actions.setProgress(q.getOrElse("value", "-1").toDouble)
      case ("POST", "/heartbeat") => (200, ControlReplies.alive)
      case ("GET", "/kv") => (200, Json.value(actions.keyValues.snapshot))
      case (method, p) if p.startsWith("/kv/") => keyValue(method, p.stripPrefix("/kv/"), q, exchange, who)
      case (method, p) => (404, ControlReplies.error(s"no such endpoint: $method $p"))
    }
  }

  private def keyValue(method: String, key: String, q: Map[String, String], exchange: HttpExchange,
                       who: ControlServer.Caller): (Int, String) =
    KeyValueStore.badKey(key) match {
      case Some(why) => (400, ControlReplies.error(why))
      case None => method match {
        case "GET" =>
          actions.keyValues.get(key, waitMillis(q)) match {
            case Some(v) => (200, Json.obj("key" -> key, "value" -> v))
            case None => (404, ControlReplies.error(s"no key '$key'"))
          }
        case "PUT" =>
          val body = exchange.getRequestBody.readNBytes(KeyValueStore.MaxValueBytes + 1)
          val owner = q.get("owner")
          // expect=VALUE: only if it holds VALUE; absent=1: only if it is not set.
          val expected = if (q.get("absent").contains("1")) Some(None) else q.get("expect").map(Some(_))
          if (body.length > KeyValueStore.MaxValueBytes)
            (413, ControlReplies.error(s"values are at most ${KeyValueStore.MaxValueBytes} bytes"))
          else if (owner.exists(o => !actions.isLiveContainer(o)))
            (400, ControlReplies.error(s"owner ${owner.get} is not a live container of this application"))
          else if (who.isInstanceOf[ControlServer.FromContainer] && owner.exists(_ != who.asInstanceOf[ControlServer.FromContainer].id))
            (403, ControlReplies.error("a container may own keys for itself only"))
          else if (actions.keyValues.setBytes(key, body, owner, expected.map(_.map(_.getBytes(UTF_8)))))
            (200, Json.obj("key" -> key))
          else (409, ControlReplies.error(s"key '$key' does not hold the value expected; it was not changed"))
        case "DELETE" => (200, Json.obj("deleted" -> actions.keyValues.delete(key)))
        case other => (405, ControlReplies.error(s"$other is not allowed on /kv/KEY"))
      }
    }
}

object ControlServer {
  /** Threads serving requests. The JDK's server reads a request on one of them, so a
    * connection that sends its request slowly holds a thread until it is complete or
    * RequestTimeoutS has passed: there are enough (created on demand, gone when idle)
    * for hundreds of such connections a second; as many more wait in a queue, and
    * beyond that connections are closed (and remembered: see `clientGone`). */
  val Threads = 256
  /** Seconds a connection may take to send its request (headers and body). */
  val RequestTimeoutS = 3

  /** Closes a connection no thread can take, and notes when. */
  final class RefuseAndRemember(server: => ControlServer) extends java.util.concurrent.RejectedExecutionHandler {
    private val abort = new ThreadPoolExecutor.AbortPolicy()
    override def rejectedExecution(task: Runnable, pool: ThreadPoolExecutor): Unit = {
      server.lastRefusalMs = System.currentTimeMillis()
      abort.rejectedExecution(task, pool)
    }
  }
  /** Longest wait of `GET /kv/KEY?wait=S`. */
  val MaxWaitS = 60.0

  /** The JDK server's own limits (read once, when its first instance is made): a
    * request must arrive within RequestTimeoutS, idle keep-alive connections close. */
  private def boundTimeouts(): Unit = {
    System.setProperty("sun.net.httpserver.maxReqTime", RequestTimeoutS.toString)
    System.setProperty("sun.net.httpserver.maxRspTime", (MaxWaitS.toInt + 30).toString)
    System.setProperty("sun.net.httpserver.idleInterval", "30")
    // The server writes a reply's headers and body apart: without TCP_NODELAY the body
    // waits for the client's delayed ACK of the headers, 40 ms on Linux, on every call.
    System.setProperty("sun.net.httpserver.nodelay", "true")
  }

  /** Who a request comes from. */
  sealed trait Caller
  /** The client that submitted the application (or attached to it): the secret. */
  case object Client extends Caller
  /** One of the application's live containers, by its own credential. */
  final case class FromContainer(id: String) extends Caller

  /** The credential of one container: HMAC-SHA256 of its id under the secret, in hex.
    * Only that container's private token file holds it, and it stops working when
    * the container ends. */
  def credential(secret: String, containerId: String): String = {
    val mac = javax.crypto.Mac.getInstance("HmacSHA256")
    mac.init(new javax.crypto.spec.SecretKeySpec(secret.getBytes(UTF_8), "HmacSHA256"))
    mac.doFinal(containerId.getBytes(UTF_8)).map(b => f"${b & 0xff}%02x").mkString
  }

  /** The token file's key of a container's credential. */
  val CredentialKey = "knit.container.credential"

  /** Largest request body (a container's environment overrides). */
  val MaxBodyBytes: Int = 64 * 1024

  private val EnvName = "^[A-Za-z_][A-Za-z0-9_]*$".r

  /** The `{"env": {NAME: value}}` body of `POST /containers` (empty: no overrides). */
  def envOverrides(body: Array[Byte]): Either[String, Map[String, String]] =
    if (body.length > MaxBodyBytes) Left(s"the request body is over $MaxBodyBytes bytes")
    else if (body.isEmpty) Right(Map.empty)
    else scala.util.Try(Json.parse(new String(body, UTF_8))).toOption match {
      case Some(m: Map[_, _]) => m.asInstanceOf[Map[String, Any]].getOrElse("env", Map.empty) match {
        case env: Map[_, _] =>
          val pairs = env.asInstanceOf[Map[String, Any]].toSeq
          pairs.collectFirst {
            case (k, _) if EnvName.findFirstIn(k).isEmpty => s"env: '$k' is not a variable name"
            case (k, v: String) if v.contains(0.toChar) => s"env: $k holds a NUL character"
            case (k, v) if !v.isInstanceOf[String] => s"env: $k must be a string, not $v"
          }.toLeft(pairs.map { case (k, v) => k -> v.toString }.toMap)
        case other => Left(s"env must be an object of strings, not $other")
      }
      case _ => Left("the body must be a JSON object such as {\"env\": {\"NAME\": \"value\"}}")
    }

  trait Actions {
    def list(): String
    def add(service: Option[String], count: Int, memoryMb: Option[Int], vcores: Option[Int],
            env: Map[String, String]): (Int, String)
    def scale(service: Option[String], target: Int, memoryMb: Option[Int], vcores: Option[Int]): (Int, String)
    def remove(containerId: String): (Int, String)
    def withdraw(service: Option[String], count: Int): (Int, String)
    /** End the application with this final status and diagnostics. */
    def shutdown(status: String, diagnostics: String): (Int, String)
    /** The progress the ApplicationMaster reports to YARN. */
    def setProgress(progress: Double): (Int, String)
    def keyValues: KeyValueStore
    /** Whether `containerId` is a live container of the application (a key's owner). */
    def isLiveContainer(containerId: String): Boolean
    /** The HTML of the status page. */
    def statusPage(): String
    /** Whether a request from this address may see the page (the RM's proxy). */
    def servesPageTo(address: java.net.InetAddress): Boolean
    /** Where others are sent: the page through the ResourceManager's proxy. */
    def pageProxyUrl: String
    /** Whether the user the proxy serves may see the page (YARN's view ACL). */
    def mayView(user: Option[String]): Boolean
  }
}
