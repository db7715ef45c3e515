package knit.am

import java.net.InetAddress
import java.time.Instant

import org.junit.Assert._
import org.junit.Test

class StatusPageTest {
  private val rows = Seq(
    StatusPage.Row("container_1_0001_01_000003", "FAILED", "b:1", "b:8042", 256, 1, Some(1), "boom <b>"),
    StatusPage.Row("container_1_0001_01_000002", "RUNNING", "a:1", "a:8042", 128, 2, None, ""))
  private val view = StatusPage.View("application_1_0001", 1, "alice", 2, 1, 1, 3, rows,
    Seq(Instant.EPOCH -> "target set to 2 <script>"))

  @Test def containersAreGroupedByNodeWithTheirLogs(): Unit = {
    val html = StatusPage.render(view)
    assertTrue(html.indexOf("<h3>a:1</h3>") < html.indexOf("<h3>b:1</h3>"))
    assertTrue(html.contains("""<a href="//a:8042/node/containerlogs/container_1_0001_01_000002/alice">logs</a>"""))
    assertTrue(html.contains("""<dd id="pending">1</dd>"""))
    assertTrue(html.contains("""<meta http-equiv="refresh" content="5">"""))
  }

  @Test def containersAreGroupedByServiceAndTheKeysAreShown(): Unit = {
    val two = view.copy(containers = Seq(rows(0).copy(service = "db"), rows(1).copy(service = "web")),
      services = Seq("db", "web"), keyValues = Map("db.address" -> "tcp://a:5432 <x>", "big" -> "v" * 500))
    val html = StatusPage.render(two)
    assertTrue(html.indexOf("Service db</h2>") < html.indexOf("container_1_0001_01_000003"))
    assertTrue(html.indexOf("Service web</h2>") < html.indexOf("container_1_0001_01_000002"))
    assertTrue(html.indexOf("container_1_0001_01_000003") < html.indexOf("Service web</h2>"))
    assertTrue(html.contains("<td>db.address</td><td><code>tcp://a:5432 &lt;x&gt;</code></td>"))
    assertTrue("a long value is cut", html.contains("v" * StatusPage.ShownValueChars + " [...]"))
    assertFalse(html.contains("v" * (StatusPage.ShownValueChars + 1)))
    assertTrue("one service: by node, as before", StatusPage.render(view).contains("Containers by node"))
  }

  @Test def aDaskClustersDashboardIsLinked(): Unit = {
    val dask = view.copy(keyValues = Map("dask.dashboard" -> "http://node-3:40595", "dask.scheduler" -> "tcp://node-3:1"))
    assertTrue(StatusPage.render(dask).contains(
      """<p id="dashboard">Dask dashboard: <a href="http://node-3:40595/status">http://node-3:40595/status</a></p>"""))
    val hostile = view.copy(keyValues = Map("dask.dashboard" -> "javascript:alert(1)"))
    assertFalse("only http(s) URLs are linked", StatusPage.render(hostile).contains("id=\"dashboard\""))
    assertFalse(StatusPage.render(view).contains("id=\"dashboard\""))
  }

  @Test def everythingFromOutsideIsEscaped(): Unit = {
    val html = StatusPage.render(view)
    assertFalse(html.contains("<script>"))
    assertTrue(html.contains("target set to 2 &lt;script&gt;"))
    assertTrue(html.contains("""title="boom &lt;b&gt;""""))
  }

  @Test def theOutputYarnQuotesInDiagnosticsIsNotShown(): Unit = {
    val diagnostics = "Exception from container-launch.\nContainer exited with a non-zero exit code 1. " +
      "Error file: prelaunch.err.\nLast 4096 bytes of prelaunch.err :\n\nLast 4096 bytes of stderr :\n" +
      "password=hunter2\n"
    val row = StatusPage.Row("container_1_0001_01_000004", "COMPLETE", "c:1", "c:8042", 128, 1, Some(1), diagnostics)
    val html = StatusPage.render(view.copy(containers = Seq(row)))
    assertFalse(html.contains("hunter2"))
    assertTrue(html.contains("non-zero exit code 1"))
    assertEquals("plain reason", StatusPage.withoutOutput("plain reason"))
  }

  @Test def theEventLogKeepsTheNewest(): Unit = {
    val log = new EventLog(capacity = 2)
    Seq("one", "two", "three").foreach(log.add)
    assertEquals(Seq("two", "three"), log.recent.map(_._2))
  }

  @Test def theProxyIsTheResourceManagersHostEvenWhenItsWebBindsEverything(): Unit = {
    val conf = scala.collection.mutable.Map("yarn.resourcemanager.webapp.address" -> "0.0.0.0:8088",
      "yarn.resourcemanager.hostname" -> "127.0.0.1")
    assertEquals(Set(InetAddress.getByName("127.0.0.1")), StatusPage.proxyAddresses(conf.get))
    assertEquals("http://0.0.0.0:8088/proxy/application_1_0001/", StatusPage.proxyUrl(conf.get, "application_1_0001"))
    conf("yarn.web-proxy.address") = "127.0.0.3:9046"
    assertTrue(StatusPage.proxyAddresses(conf.get).contains(InetAddress.getByName("127.0.0.3")))
    assertEquals("http://127.0.0.3:9046/proxy/application_1_0001/", StatusPage.proxyUrl(conf.get, "application_1_0001"))
  }

  @Test def viewersAreTheOwnerTheViewAclAndTheAdmins(): Unit = {
    val groups = Map("carol" -> Set("analysts"), "dave" -> Set("ops"))
    def may(user: String, viewAcl: Option[String], admin: String = "root", enabled: Boolean = true) =
      StatusPage.mayView(Option(user), "alice", viewAcl, admin, enabled, u => groups.getOrElse(u, Set.empty))
    assertTrue(may("alice", None))
    assertFalse(may("bob", None))
    assertFalse(may(null, Some("*")))                 // anonymous
    assertTrue(may("bob", Some("bob ")))               // users, no groups
    assertTrue(may("carol", Some(" analysts")))        // groups only
    assertFalse(may("dave", Some("bob analysts")))
    assertTrue(may("dave", Some("*")))
    assertTrue(may("root", None))                      // an administrator
    assertTrue(may("bob", None, enabled = false))      // ACLs off: YARN shows everyone
  }

  @Test def theProxyNamesItsUserInACookie(): Unit = {
    assertEquals(Some("bob"), StatusPage.proxyUser(Seq("a=1; proxy-user=bob; b=2")))
    assertEquals(Some("x y"), StatusPage.proxyUser(Seq("other=1", "proxy-user=x+y")))
    assertEquals(None, StatusPage.proxyUser(Seq("hadoop.auth=abc")))
  }
}
