package knit.am

import knit.contract._

import java.net.URI
import java.net.http.{HttpClient, HttpRequest, HttpResponse}
import java.nio.file.{Files, Paths}

import org.junit.Assert._
import org.junit.Test

/** The control API as knit's Python client speaks it (tests/data/control_api.json,
  * replayed by tests/unit/test_am_client.py against knit/am_client.py) is the one a
  * real ControlServer answers: the same paths, verbs, query names, statuses and reply
  * bodies, exchange by exchange from the fixture's starting state. */
class ControlApiTest {
  private val fixture = Json.parse(new String(Files.readAllBytes(Paths.get("tests/data/control_api.json")), "UTF-8"))
    .asInstanceOf[Map[String, Any]]
  private val am = fixture("am_container").toString
  private def id(n: Int) = f"container_1700000000000_0001_01_$n%06d"

  /** The fixture's starting state (see its comment). */
  private def tracker(): ContainerTracker = {
    val t = new ContainerTracker(maxRestarts = 2)
    t.request(3)
    t.allocated(id(2), "n1:8041", "n1:8042", 256, 1)
    t.allocated(id(3), "n2:8041", "n2:8042", 256, 1)
    t.allocated(id(4), "n2:8041", "n2:8042", 256, 1)
    t.started(id(2))
    t.started(id(4))
    assertTrue("a failure within max_restarts is replaced", t.completed(id(4), 1, ""))
    t
  }

  /** What the ApplicationMaster's actions do with its tracker, without YARN. */
  private final class TrackerActions(t: ContainerTracker) extends ControlServer.Actions {
    val keyValues = new KeyValueStore()
    def list(): String = ControlReplies.report(Seq(("worker", t, 2)), am, 1, "n0:8041", "n0:8042")
    def add(service: Option[String], count: Int, memoryMb: Option[Int], vcores: Option[Int],
            env: Map[String, String]): (Int, String) = {
      t.request(count); (200, ControlReplies.asked(count, t.target))
    }
    def scale(service: Option[String], target: Int, memoryMb: Option[Int], vcores: Option[Int]): (Int, String) = {
      val current = t.removable.size + t.pending
      if (target > current) t.request(target - current)
      (200, ControlReplies.target(t.target))
    }
    def withdraw(service: Option[String], count: Int): (Int, String) = (200, ControlReplies.withdrawn(t.withdraw(count)))
    def shutdown(status: String, diagnostics: String): (Int, String) = (200, ControlReplies.shuttingDown(status))
    def setProgress(progress: Double): (Int, String) = (200, ControlReplies.progress(progress))
    def isLiveContainer(containerId: String): Boolean = t.live.exists(_.id == containerId)
    def remove(containerId: String): (Int, String) =
      if (containerId == am) (400, ControlReplies.ownContainer(containerId))
      else if (t.remove(containerId)) (200, ControlReplies.removed(containerId))
      else (404, ControlReplies.notLive(containerId))
    def statusPage(): String = ""
    def servesPageTo(address: java.net.InetAddress): Boolean = false
    def pageProxyUrl: String = ""
    def mayView(user: Option[String]): Boolean = false
  }

  @Test def answersEveryExchangeOfTheFixture(): Unit = {
    val server = new ControlServer("127.0.0.1", "s3cret", new TrackerActions(tracker()))
    server.start()
    val http = HttpClient.newHttpClient()
    try {
      for (exchange <- fixture("exchanges").asInstanceOf[Seq[Map[String, Any]]]) {
        val query = exchange("query").asInstanceOf[Map[String, Any]]
          .map { case (k, v) => s"$k=${java.net.URLEncoder.encode(v.toString, "UTF-8")}" }.mkString("&")
        val uri = URI.create(s"http://127.0.0.1:${server.port}${exchange("path")}" + (if (query.isEmpty) "" else s"?$query"))
        val body = exchange.get("body").map(b => HttpRequest.BodyPublishers.ofString(b.toString))
          .getOrElse(HttpRequest.BodyPublishers.noBody())
        val request = HttpRequest.newBuilder(uri).method(exchange("method").toString, body)
          .header(fixture("secret_header").toString, "s3cret").build()
        val reply = http.send(request, HttpResponse.BodyHandlers.ofString())
        val what = s"${exchange("method")} $uri"
        assertEquals(what, exchange("status").asInstanceOf[BigDecimal].toInt, reply.statusCode)
        exchange.get("reply_bytes") match {
          case Some(bytes) => assertEquals(what, bytes, reply.body)
          case None => assertEquals(what, exchange("reply"), Json.parse(reply.body))
        }
      }
    } finally server.stop()
  }

  @Test def refusesCallsWithoutTheSecret(): Unit = {
    val server = new ControlServer("127.0.0.1", "s3cret", new TrackerActions(tracker()))
    server.start()
    try {
      val request = HttpRequest.newBuilder(URI.create(s"http://127.0.0.1:${server.port}/heartbeat"))
        .POST(HttpRequest.BodyPublishers.noBody()).build()
      assertEquals(403, HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString()).statusCode)
    } finally server.stop()
  }
}
