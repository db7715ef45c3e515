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
    assertEquals(Seq("data.csv"), c.workers.resources.map(_.name))
    assertEquals(Map("127.0.0.10" -> 12, "127.0.0.11" -> 0), c.workers.nodes)
    assertTrue(c.keepAlive)
    assertEquals(300000L, c.allocationTimeoutMs)
    assertEquals(120500L, c.clientTimeoutMs)
    assertEquals("hdfs://nn:9000/user/u/.knitApps", c.recordsFolder)
    assertEquals("alice@EXAMPLE.COM", c.kerberosPrincipal)
  }

  @Test def refusesAnotherSchemaVersion(): Unit = {
    val e = assertThrows(classOf[IllegalArgumentException],
      () => LaunchContract.fromJson(example.replace("\"schema\": 2", "\"schema\": 3")))
    assertTrue(e.getMessage, e.getMessage.contains("schema 3; this knit jar reads 2"))
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

  @Test def aContractOfSeveralServicesIsRefusedSayingSo(): Unit = {
    val root = Json.parse(example).asInstanceOf[Map[String, Any]]
    val worker = root("services").asInstanceOf[Map[String, Any]]("worker")
    val two = Json.value(root + ("services" -> Map("worker" -> worker, "scheduler" -> worker)))
    val error = assertThrows(classOf[IllegalArgumentException], () => LaunchContract.fromJson(two))
    assertTrue(error.getMessage, error.getMessage.contains("names 2 services"))
  }
}
