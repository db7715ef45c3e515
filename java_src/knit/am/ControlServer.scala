package knit.am

import java.net.InetSocketAddress
import java.nio.charset.StandardCharsets.UTF_8
import java.security.MessageDigest

import com.sun.net.httpserver.{HttpExchange, HttpServer}

/** The ApplicationMaster's control endpoint, for the client that submitted it.
  *
  * `GET /containers`, `POST /containers?count=N&memory=MB&vcores=V`,
  * `DELETE /containers/pending?count=N` (withdraw asks not granted yet) and
  * `DELETE /containers/ID`. Every request must carry the application's secret in
  * the `X-Knit-Secret` header.
  */
final class ControlServer(host: String, secret: String, actions: ControlServer.Actions) {
  private val server = HttpServer.create(new InetSocketAddress(host, 0), 16)
  server.createContext("/containers", (exchange: HttpExchange) => handle(exchange))

  def start(): Int = {
    server.start()
    server.getAddress.getPort
  }

  def stop(): Unit = server.stop(0)

  /** When the client last made an authorized request (start-up time before that). */
  @volatile var lastContactMs: Long = System.currentTimeMillis()

  private def authorized(exchange: HttpExchange): Boolean = {
    val given = Option(exchange.getRequestHeaders.getFirst("X-Knit-Secret")).getOrElse("")
    MessageDigest.isEqual(given.getBytes(UTF_8), secret.getBytes(UTF_8))
  }

  private def handle(exchange: HttpExchange): Unit = {
    val (code, body) =
      try {
        if (!authorized(exchange)) (403, Json.obj("error" -> "missing or wrong X-Knit-Secret"))
        else { lastContactMs = System.currentTimeMillis(); route(exchange) }
      } catch {
        case e: NumberFormatException => (400, Json.obj("error" -> s"bad number: ${e.getMessage}"))
        case e: Exception => (500, Json.obj("error" -> e.toString))
      }
    val bytes = body.getBytes(UTF_8)
    exchange.getResponseHeaders.set("Content-Type", "application/json")
    exchange.sendResponseHeaders(code, bytes.length.toLong)
    exchange.getResponseBody.write(bytes)
    exchange.close()
  }

  private def query(exchange: HttpExchange): Map[String, String] =
    Option(exchange.getRequestURI.getQuery).getOrElse("").split("&").toSeq.filter(_.contains("="))
      .map { pair => val Array(k, v) = pair.split("=", 2); k -> v }.toMap

  private def route(exchange: HttpExchange): (Int, String) = {
    val path = exchange.getRequestURI.getPath.stripSuffix("/")
    (exchange.getRequestMethod, path) match {
      case ("GET", "/containers") => (200, actions.list())
      case ("POST", "/containers") =>
        val q = query(exchange)
        val count = q.getOrElse("count", "1").toInt
        if (count < 1) (400, Json.obj("error" -> "count must be >= 1"))
        else (200, actions.add(count, q.get("memory").map(_.toInt), q.get("vcores").map(_.toInt)))
      case ("DELETE", "/containers/pending") =>
        val count = query(exchange).getOrElse("count", "1").toInt
        if (count < 1) (400, Json.obj("error" -> "count must be >= 1"))
        else (200, actions.withdraw(count))
      case ("DELETE", p) if p.startsWith("/containers/") =>
        actions.remove(p.stripPrefix("/containers/"))
      case (method, p) => (404, Json.obj("error" -> s"no such endpoint: $method $p"))
    }
  }
}

object ControlServer {
  trait Actions {
    def list(): String
    def add(count: Int, memoryMb: Option[Int], vcores: Option[Int]): String
    def remove(containerId: String): (Int, String)
    def withdraw(count: Int): String
  }
}

/** Just enough JSON for the control endpoint's replies. */
object Json {
  def quote(text: String): String = {
    val out = new StringBuilder("\"")
    text.foreach {
      case '"' => out.append("\\\"")
      case '\\' => out.append("\\\\")
      case '\n' => out.append("\\n")
      case '\r' => out.append("\\r")
      case '\t' => out.append("\\t")
      case c if c < ' ' => out.append(f"\\u${c.toInt}%04x")
      case c => out.append(c)
    }
    out.append('"').toString
  }

  def value(v: Any): String = v match {
    case null | None => "null"
    case Some(x) => value(x)
    case s: String => quote(s)
    case b: Boolean => b.toString
    case n: Int => n.toString
    case n: Long => n.toString
    case n: Float => n.toString
    case n: Double => n.toString
    case m: Map[_, _] => m.map { case (k, x) => quote(k.toString) + ":" + value(x) }.mkString("{", ",", "}")
    case s: Iterable[_] => s.map(value).mkString("[", ",", "]")
    case other => quote(other.toString)
  }

  def obj(fields: (String, Any)*): String = value(fields.toMap)
}
