package knit.am

import java.net.{InetAddress, URI}
import java.time.Instant
import java.time.format.DateTimeFormatter
import java.time.ZoneOffset

import scala.collection.mutable

/** What happened to an application lately, newest last, for its status page: the
  * last `capacity` events (containers started, exited, replaced; target changes). */
final class EventLog(capacity: Int = 100, now: () => Instant = () => Instant.now()) {
  private val events = mutable.Queue[(Instant, String)]()

  def add(message: String): Unit = synchronized {
    events.enqueue(now() -> message)
    while (events.size > capacity) events.dequeue()
  }

  def recent: Seq[(Instant, String)] = synchronized(events.toList)
}

/** The application's web page: containers by node, target and pending asks, recent
  * events. Plain HTML that reloads itself, no JavaScript; it shows, it changes nothing.
  * The ApplicationMaster sets it as its YARN tracking URL, so the ResourceManager's
  * web UI links to it through the ResourceManager's proxy. */
object StatusPage {
  /** YARN's diagnostics of a container up to the output it quotes ("Last 4096 bytes of
    * stderr :" and the like): the page shows why a container ended, never what it
    * printed, which only those allowed its logs may read. */
  def withoutOutput(diagnostics: String): String =
    OutputQuote.findFirstMatchIn(diagnostics).map(m => diagnostics.take(m.start)).getOrElse(diagnostics)

  private val OutputQuote = """(?m)^\s*Last \d+ bytes of """.r

  final case class Row(id: String, state: String, node: String, nodeHttp: String, memoryMb: Long,
                       vcores: Int, exitStatus: Option[Int], diagnostics: String, service: String = "")

  /** What the page shows. With more than one of `services`, containers are grouped by
    * service first; `keyValues` is the application's key-value store (the page is
    * served to users with view access only, as YARN's own pages). */
  final case class View(appId: String, attempt: Int, user: String, target: Int, pending: Int,
                        restarts: Int, maxRestarts: Int, containers: Seq[Row],
                        events: Seq[(Instant, String)], refreshS: Int = 5,
                        services: Seq[String] = Nil, keyValues: Map[String, String] = Map.empty)

  /** Longest value the page shows of a key (the rest is cut, with a mark). */
  val ShownValueChars = 200
  /** The key under which a Dask cluster's scheduler publishes its dashboard's URL. */
  val DashboardKey = "dask.dashboard"

  /** A link to the Dask dashboard, when the store holds an http(s) URL of one. YARN's
    * web proxy cannot carry the dashboard itself (its plots talk over websockets), so
    * the page links it; the browser must reach the scheduler's node. */
  def dashboardLink(keyValues: Map[String, String]): String =
    keyValues.get(DashboardKey).filter(u => u.startsWith("http://") || u.startsWith("https://")) match {
      case Some(url) =>
        val status = if (url.endsWith("/status")) url else url.stripSuffix("/") + "/status"
        s"""<p id="dashboard">Dask dashboard: <a href="${escape(status)}">${escape(status)}</a></p>"""
      case None => ""
    }

  private val time = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'").withZone(ZoneOffset.UTC)

  def escape(text: String): String = text.flatMap {
    case '&' => "&amp;"
    case '<' => "&lt;"
    case '>' => "&gt;"
    case '"' => "&quot;"
    case '\'' => "&#39;"
    case c => c.toString
  }

  def render(v: View): String = {
    val live = v.containers.count(c => c.state == "RUNNING" || c.state == "ALLOCATED")
    val restarts = if (v.maxRestarts < 0) s"${v.restarts} (no limit)" else s"${v.restarts} of ${v.maxRestarts}"
    def byNode(containers: Seq[Row], heading: String) = {
      val groups = containers.groupBy(_.node).toSeq.sortBy(_._1)
      if (groups.isEmpty) "<p>No containers yet.</p>" else groups.map { case (node, rows) =>
        s"""<$heading>${escape(node)}</$heading>
           |<table><tr><th>Container</th><th>State</th><th>Memory</th><th>vcores</th><th>Exit status</th><th>Logs</th></tr>
           |${rows.sortBy(_.id).map(row(v.user, _)).mkString("\n")}
           |</table>""".stripMargin
      }.mkString("\n")
    }
    val nodes =
      if (v.services.size <= 1) s"<h2>Containers by node</h2>\n${byNode(v.containers, "h3")}"
      else v.services.map { name =>
        s"""<h2 class="service">Service ${escape(name)}</h2>\n${byNode(v.containers.filter(_.service == name), "h3")}"""
      }.mkString("\n")
    val keyValues = if (v.keyValues.isEmpty) "<p>No keys set.</p>" else
      "<table id=\"kv\"><tr><th>Key</th><th>Value</th></tr>\n" + v.keyValues.toSeq.sorted.map { case (k, value) =>
        val shown = if (value.length > ShownValueChars) value.take(ShownValueChars) + " [...]" else value
        s"<tr><td>${escape(k)}</td><td><code>${escape(shown)}</code></td></tr>"
      }.mkString("\n") + "\n</table>"
    val events = if (v.events.isEmpty) "<li>none yet</li>" else v.events.reverse.map { case (at, what) =>
      s"<li><time>${time.format(at)}</time> ${escape(what)}</li>"
    }.mkString("\n")
    s"""<!DOCTYPE html>
       |<html lang="en"><head><meta charset="utf-8">
       |<meta http-equiv="refresh" content="${v.refreshS}">
       |<title>${escape(v.appId)} - knit</title>
       |<style>
       |body { font-family: sans-serif; margin: 1.5em; color: #222; }
       |table { border-collapse: collapse; margin-bottom: 1em; }
       |th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }
       |th { background: #f2f2f2; } .RUNNING { color: #070; } .FAILED { color: #b00; }
       |dt { font-weight: bold; float: left; width: 10em; } dd { margin-left: 10em; }
       |</style></head><body>
       |<h1>knit application ${escape(v.appId)}</h1>
       |<dl id="summary">
       |<dt>Attempt</dt><dd>${v.attempt}</dd>
       |<dt>User</dt><dd>${escape(v.user)}</dd>
       |<dt>Target</dt><dd id="target">${v.target}</dd>
       |<dt>Live</dt><dd id="live">$live</dd>
       |<dt>Pending asks</dt><dd id="pending">${v.pending}</dd>
       |<dt>Restarts</dt><dd>$restarts</dd>
       |</dl>
       |${dashboardLink(v.keyValues)}
       |$nodes
       |<h2>Key-value store</h2>
       |$keyValues
       |<h2>Recent events</h2>
       |<ul id="events">
       |$events
       |</ul>
       |<p><small>Refreshes every ${v.refreshS} s. Read-only: changing the application takes knit's
       |control secret (<code>Knit.scale</code>, <code>knit scale</code>).</small></p>
       |</body></html>
       |""".stripMargin
  }

  private def row(user: String, c: Row): String = {
    val logs = if (c.nodeHttp.isEmpty) "" else
      s"""<a href="//${escape(c.nodeHttp)}/node/containerlogs/${escape(c.id)}/${escape(user)}">logs</a>"""
    val exit = c.exitStatus.map(_.toString).getOrElse("")
    val reason = withoutOutput(c.diagnostics).trim
    val why = if (reason.isEmpty) "" else s""" title="${escape(reason.take(500))}""""
    s"""<tr class="container"><td>${escape(c.id)}</td><td class="${escape(c.state)}">${escape(c.state)}</td>""" +
      s"""<td>${c.memoryMb} MB</td><td>${c.vcores}</td><td$why>$exit</td><td>$logs</td></tr>"""
  }

  /** Whether `user` may view the application, as YARN decides for its own pages: with
    * ACLs off everyone may; else the owner, the users and groups of the view ACL
    * (`"users groups"`, `*` for all) and the cluster's administrators (`adminAcl`).
    * `groups` gives a user's groups. No user (an anonymous request) may not. */
  def mayView(user: Option[String], owner: String, viewAcl: Option[String], adminAcl: String,
              aclsEnabled: Boolean, groups: String => Set[String]): Boolean =
    !aclsEnabled || user.exists { u =>
      def allows(acl: String): Boolean = {
        val trimmed = acl.trim
        trimmed == "*" || {
          val (users, groupList) = acl.span(_ != ' ')
          val names = users.split(",").map(_.trim).filter(_.nonEmpty).toSet
          val groupNames = groupList.trim.split(",").map(_.trim).filter(_.nonEmpty).toSet
          names.contains(u) || (groupNames.nonEmpty && (groups(u) & groupNames).nonEmpty)
        }
      }
      u == owner || viewAcl.exists(allows) || allows(adminAcl)
    }

  /** The user the ResourceManager's proxy says it serves (its `proxy-user` cookie). */
  def proxyUser(cookieHeaders: Seq[String]): Option[String] =
    cookieHeaders.flatMap(_.split(";")).map(_.trim).collectFirst {
      case c if c.startsWith("proxy-user=") =>
        java.net.URLDecoder.decode(c.stripPrefix("proxy-user="), java.nio.charset.StandardCharsets.UTF_8)
    }.filter(_.nonEmpty)

  /** The addresses the ResourceManager's web proxy connects from (the hosts of
    * `yarn.web-proxy.address`, else of every ResourceManager web address), as
    * Hadoop's own AM filter allows them. `conf` reads a YARN property. */
  def proxyAddresses(conf: String => Option[String]): Set[InetAddress] = {
    val ids = conf("yarn.resourcemanager.ha.rm-ids").toSeq.flatMap(_.split(",")).map(_.trim).filter(_.nonEmpty)
    val suffixes = if (ids.isEmpty) Seq("") else ids.map("." + _)
    val hosts = conf("yarn.web-proxy.address").map(_.split(":")(0)).toSeq ++ suffixes.flatMap { s =>
      // A web address bound to every interface names no host: the RM's hostname does.
      val rmHost = conf(s"yarn.resourcemanager.hostname$s")
      (conf(s"yarn.resourcemanager.webapp.address$s").toSeq ++ conf(s"yarn.resourcemanager.webapp.https.address$s"))
        .map(_.split(":")(0)).flatMap(h => if (h == "0.0.0.0") rmHost else Some(h))
    }
    hosts.distinct.flatMap { host =>
      try InetAddress.getAllByName(host).toSeq catch { case _: java.net.UnknownHostException => Nil }
    }.toSet
  }

  /** The page's address through the ResourceManager's proxy. */
  def proxyUrl(conf: String => Option[String], appId: String): String = {
    val https = conf("yarn.http.policy").contains("HTTPS_ONLY")
    val address = conf("yarn.web-proxy.address").getOrElse(
      if (https) conf("yarn.resourcemanager.webapp.https.address").getOrElse("0.0.0.0:8090")
      else conf("yarn.resourcemanager.webapp.address").getOrElse("0.0.0.0:8088"))
    val Array(host, port) = (address + ":").split(":").take(2).padTo(2, "")
    new URI(if (https) "https" else "http", null, host, if (port.isEmpty) -1 else port.toInt,
      s"/proxy/$appId/", null, null).toString
  }
}
