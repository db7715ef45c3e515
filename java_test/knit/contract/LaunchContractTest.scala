package knit.contract

import java.nio.file.{Files, Paths}

import org.junit.Assert._
import org.junit.Test

/** The contract Python writes (tests/data/launch_contract.json, checked against
  * knit/contract.py by tests/unit/test_contract.py) is the one Scala reads. */
class LaunchContractTest {
  private val example = new String(Files.readAllBytes(Paths.get("tests/data/launch_contract.json")), "UTF-8")

  @Test def readsEveryFieldPythonWrites(): Unit = {
    val c = LaunchContract.fromJson(example)
    assertEquals("name with \"quotes\"", c.appName)
    assertEquals("root.batch", c.queue)
    assertEquals("knit", c.appType)
    assertTrue(c.amJavaOptions.toString, c.amJavaOptions.contains("--add-opens=java.base/java.lang=ALL-UNNAMED"))
    assertEquals(Seq("knit", "knit-submission-0"), c.tags)
    assertEquals(Map("VIEW_APP" -> "bob ", "MODIFY_APP" -> " "), c.acls)
    assertEquals(2, c.maxAttempts)
    assertEquals(512, c.amMemoryMb)
    assertEquals(Resources.Described("knit.jar", "hdfs://nn:9000/user/u/.knitJars/knit-abc.jar", "FILE",
      "PUBLIC", 1234L, 1700000000000L), c.jar)
    assertEquals(3, c.workers.target)
    assertEquals(256, c.workers.memoryMb)
    assertEquals(2, c.workers.vcores)
    assertEquals(-1, c.workers.maxRestarts)
    assertEquals(307, c.amHeapMb)
    assertTrue(c.amBootScript.startsWith("# written by knit: start the ApplicationMaster"))
    assertEquals(0, c.workers.maxStartFailures)
    assertEquals(60000L, c.workers.startGraceMs)
    assertTrue(c.workers.kvAccess)
    assertTrue(c.workers.bootScript.contains("ünïcode \ud83d\ude00'"))
    assertEquals(Seq("data.csv"), c.workers.files.map(_.name))
    assertEquals(Map("127.0.0.10" -> 12, "127.0.0.11" -> 0), c.workers.room)
    assertEquals("/opt/tools:/usr/bin", c.workers.env("PATH"))
    assertEquals(Map.empty, c.workers.extraResources)
    assertFalse(c.workers.allowFailures)
    assertFalse(c.workers.failWithoutRestarts)
    assertEquals(Seq.empty, c.workers.depends)
    assertEquals(None, c.driver)
    assertEquals(0, c.priority)
    assertEquals(0L, c.lifetimeS)
    assertTrue(c.keepAlive)
    assertEquals(300000L, c.allocationTimeoutMs)
    assertEquals(120500L, c.clientTimeoutMs)
    assertEquals("hdfs://nn:9000/user/u/.knitApps", c.recordsFolder)
    assertEquals("alice@EXAMPLE.COM", c.kerberosPrincipal)
  }

  @Test def refusesAnotherSchemaVersion(): Unit = {
    val e = assertThrows(classOf[IllegalArgumentException],
      () => LaunchContract.fromJson(example.replace("\"schema\": 3", "\"schema\": 2")))
    assertTrue(e.getMessage, e.getMessage.contains("schema 2; this knit jar reads 3"))
  }

  @Test def namesAMissingField(): Unit = {
    val e = assertThrows(classOf[IllegalArgumentException],
      () => LaunchContract.fromJson(example.replace("\"target\"", "\"targets\"")))
    assertEquals("contract.services.worker has no 'target'", e.getMessage)
  }

  @Test def theServicesAreNamed(): Unit = {
    val c = LaunchContract.fromJson(example)
    assertEquals(Set("worker"), c.services.keySet)
    assertSame(c.services("worker"), c.workers)
  }

  private def withServices(services: Map[String, Any]): String = {
    val root = Json.parse(example).asInstanceOf[Map[String, Any]]
    Json.value(root + ("services" -> services))
  }

  private def worker: Map[String, Any] = Json.parse(example).asInstanceOf[Map[String, Any]]("services")
    .asInstanceOf[Map[String, Any]]("worker").asInstanceOf[Map[String, Any]]

  @Test def readsSeveralServicesInTheOrderOfTheirPriorities(): Unit = {
    val scheduler = worker + ("priority" -> BigDecimal(1)) + ("resources" -> Map("yarn.io/gpu" -> BigDecimal(2)))
    val workers = worker + ("priority" -> BigDecimal(2)) + ("depends" -> Seq("scheduler"))
    val c = LaunchContract.fromJson(withServices(Map("worker" -> workers, "scheduler" -> scheduler)))
    assertEquals(Seq("scheduler", "worker"), c.ordered.map(_._1))
    assertEquals(Map("yarn.io/gpu" -> 2L), c.workers.extraResources)
    assertEquals(Seq("scheduler"), c.services("worker").depends)
  }

  @Test def refusesAnUnknownDependencyOrSharedPriorities(): Unit = {
    val e = assertThrows(classOf[IllegalArgumentException],
      () => LaunchContract.fromJson(withServices(Map("worker" -> (worker + ("depends" -> Seq("db")))))))
    assertEquals("service worker depends on db, which the contract does not name", e.getMessage)
    val same = assertThrows(classOf[IllegalArgumentException],
      () => LaunchContract.fromJson(withServices(Map("a" -> worker, "b" -> worker))))
    assertTrue(same.getMessage, same.getMessage.contains("distinct priorities"))
  }

  @Test def refusesANegativeResourceCount(): Unit = {
    val e = assertThrows(classOf[IllegalArgumentException], () => LaunchContract.fromJson(
      withServices(Map("worker" -> (worker + ("resources" -> Map("yarn.io/gpu" -> BigDecimal(-1))))))))
    assertEquals("contract.services.worker.resources.yarn.io/gpu must be a count, not -1", e.getMessage)
  }
}
