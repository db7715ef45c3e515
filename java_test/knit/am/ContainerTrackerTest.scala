package knit.am

import org.junit.Assert._
import org.junit.Test

/** The ApplicationMaster's allocation book-keeping, without YARN. */
class ContainerTrackerTest {
  private var clock = 0L
  private def tracker() = new ContainerTracker(() => clock)

  @Test def launchesOnlyWhatWasAskedFor(): Unit = {
    val t = tracker()
    t.request(2)
    assertTrue(t.allocated("c2", "n1:1", "n1:2", 128, 1))
    assertTrue(t.allocated("c3", "n2:1", "n2:2", 128, 1))
    assertFalse("a surplus grant is released", t.allocated("c4", "n1:1", "n1:2", 128, 1))
    assertEquals(0, t.pending)
    assertEquals(2, t.live.size)
  }

  @Test def withdrawnAsksAreNotLaunchedWhenGrantedLate(): Unit = {
    val t = tracker()
    t.request(3)
    assertTrue(t.allocated("c2", "n1:1", "", 128, 1))
    assertEquals(2, t.withdraw(5))
    assertEquals(0, t.pending)
    assertEquals(1, t.asked)
    assertFalse("a grant racing the withdrawal is surplus", t.allocated("c3", "n1:1", "", 128, 1))
    assertEquals(0, t.withdraw(1))
  }

  @Test def succeedsWhenEveryContainerExitsZero(): Unit = {
    val t = tracker()
    t.request(2)
    t.allocated("c2", "n1:1", "", 128, 1); t.started("c2")
    t.allocated("c3", "n1:1", "", 128, 1); t.started("c3")
    t.completed("c2", 0, "")
    assertFalse(t.isDone)
    t.completed("c3", 0, "")
    assertTrue(t.isDone)
    assertEquals(true, t.summary._1)
    assertEquals(1.0f, t.progress, 0.001f)
  }

  @Test def failuresNameContainersNodesAndExitCodes(): Unit = {
    val t = tracker()
    t.request(2)
    t.allocated("c2", "n1:1", "", 128, 1)
    t.allocated("c3", "n2:1", "", 128, 1)
    t.completed("c2", 3, "Exception from container-launch.\nstack trace")
    t.completed("c3", -100, "Container released on a *lost* node")
    val (ok, text) = t.summary
    assertFalse(ok)
    assertTrue(text, text.contains("c2 on n1:1 exit code 3 (Exception from container-launch.)"))
    assertTrue(text, text.contains("c3 on n2:1 exit code -100"))
    assertFalse("only the first line of YARN's diagnostics", text.contains("stack trace"))
  }

  @Test def removedContainersAreNotFailures(): Unit = {
    val t = tracker()
    t.request(1)
    t.allocated("c2", "n1:1", "", 128, 1); t.started("c2")
    assertTrue(t.remove("c2"))
    assertFalse("only live containers can be removed", t.remove("c9"))
    t.completed("c2", 143, "Container killed by the ApplicationMaster.")
    assertEquals("REMOVED", t.workers("c2").state)
    assertTrue(t.isDone)
    assertTrue(t.summary._1)
  }

  @Test def stallIsMeasuredFromTheLastGrant(): Unit = {
    val t = tracker()
    t.request(3)
    clock = 5000
    t.allocated("c2", "n1:1", "", 128, 1)
    clock = 9000
    assertFalse(t.allocationStalled(5000))
    clock = 10001
    assertTrue(t.allocationStalled(5000))
    assertEquals(1, t.granted)
    assertEquals(3, t.asked)
  }

  @Test def resourcesSurviveTheEnvironmentEncoding(): Unit = {
    val r = Seq(Resources.Described("my file.zip", "hdfs://nn:9000/a b/c,d.zip", "ARCHIVE", "PRIVATE", 10L, 20L))
    assertEquals(r, Resources.decode(Resources.encode(r)))
    assertFalse(Resources.encode(r).exists(c => c == '"' || c == '$' || c == '\n'))
  }

  @Test def jsonEscapes(): Unit =
    assertEquals("""{"a":"x\"y\\n","b":[1,null]}""", Json.obj("a" -> "x\"y\\n", "b" -> Seq(1, None)))
}
