package knit.am

import knit.contract._

import org.junit.Assert._
import org.junit.Test

/** The ApplicationMaster's allocation book-keeping, without YARN. */
class ContainerTrackerTest {
  private var clock = 0L
  private def tracker() = new ContainerTracker(now = () => clock)

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

  @Test def aContainerThatCouldNotBeLaunchedFailsWhateverItsReportedExitStatus(): Unit = {
    val t = tracker()
    t.request(1)
    t.allocated("c2", "n1:1", "", 128, 1); t.started("c2")
    t.completed("c2", 0, "Exception from container-launch.\njava.io.IOException: Cannot run program " +
      "\"bash\": error=7, Argument list too long")
    assertTrue(t.isDone)
    assertFalse(t.summary._1)
    assertEquals(Seq("c2"), t.failures.map(_.id))
    assertEquals(Some(ContainerTracker.LaunchFailed), t.failures.head.exitStatus)
  }

  @Test def aLongLivedServiceKeepsOnlyTheNewestEndedContainersWithTheirTotals(): Unit = {
    val t = tracker()
    var next = 0
    for (_ <- 1 to 5) { // five rounds of 0 -> 100 -> 0, as a scaled service does
      t.request(100)
      val ids = (1 to 100).map { _ => next += 1; s"c$next" }
      ids.foreach { id => t.allocated(id, "n1:1", "", 128, 1); t.started(id) }
      ids.foreach(id => assertTrue(t.remove(id)))
      ids.foreach(id => t.completed(id, 143, "killed on request"))
    }
    assertEquals(ContainerTracker.KeepEnded, t.workers.size)
    assertEquals(500 - ContainerTracker.KeepEnded, t.endedNotListed)
    assertTrue(t.workers.contains("c500") && !t.workers.contains("c1"))
    val (ok, text) = t.summary
    assertTrue(text, ok && text.contains("total=500") && text.contains("removed=500"))
  }

  @Test def droppedFailuresStillFailTheJob(): Unit = {
    val t = tracker()
    t.request(150)
    (1 to 150).foreach { i => t.allocated(s"c$i", "n1:1", "", 128, 1); t.started(s"c$i") }
    t.completed("c1", 1, "boom")
    (2 to 150).foreach(i => t.completed(s"c$i", 0, ""))
    assertFalse(t.workers.contains("c1"))
    val (ok, text) = t.summary
    assertFalse(ok)
    assertTrue(text, text.contains("failed=1") && text.contains("c1 on n1:1 exit code 1 (boom)"))
    assertTrue(t.isDone)
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

  @Test def failedContainersAreReplacedWithinTheRestartPolicy(): Unit = {
    val t = new ContainerTracker(maxRestarts = 1, now = () => clock)
    t.request(2)
    t.allocated("c2", "n1:1", "", 128, 1); t.started("c2")
    t.allocated("c3", "n1:1", "", 128, 1); t.started("c3")
    assertTrue("first failure: replaced", t.completed("c2", 1, "boom"))
    assertEquals(1, t.pending)
    assertEquals(2, t.target)
    assertTrue(t.allocated("c4", "n2:1", "", 128, 1))
    assertFalse("second failure: no restart left", t.completed("c4", 1, "boom again"))
    assertTrue(t.fatal.get, t.fatal.get.contains("c4 on n2:1 exit code 1 (boom again)"))
    assertTrue(t.fatal.get, t.fatal.get.contains("max_restarts=1"))
  }

  @Test def aSpecServiceWithoutRestartsFailsAtItsFirstFailure(): Unit = {
    val t = new ContainerTracker(maxRestarts = 0, now = () => clock, failWithoutRestarts = true)
    t.request(2)
    t.allocated("c2", "n1:1", "", 128, 1); t.started("c2")
    t.allocated("c3", "n1:1", "", 128, 1); t.started("c3")
    assertFalse("not replaced", t.completed("c2", 1, "boom"))
    assertTrue(t.fatal.get, t.fatal.get.contains("c2 on n1:1 exit code 1 (boom)"))
    assertTrue(t.fatal.get, t.fatal.get.contains("max_restarts=0"))
  }

  @Test def withoutARestartPolicyAJobEndsFailedWhenTheRestAreDone(): Unit = {
    val t = tracker()
    t.request(2)
    t.allocated("c2", "n1:1", "", 128, 1)
    t.allocated("c3", "n1:1", "", 128, 1)
    assertFalse(t.completed("c2", 1, ""))
    assertEquals(None, t.fatal)
    assertFalse(t.isDone)
    t.completed("c3", 0, "")
    assertTrue(t.isDone)
    assertFalse(t.summary._1)
  }

  @Test def aReplacedFailureDoesNotFailTheJob(): Unit = {
    val t = new ContainerTracker(maxRestarts = -1, now = () => clock)
    t.request(1)
    t.allocated("c2", "n1:1", "", 128, 1)
    assertTrue(t.completed("c2", -100, "lost node"))
    t.allocated("c3", "n1:1", "", 128, 1)
    t.completed("c3", 0, "")
    assertTrue(t.isDone)
    assertTrue(t.summary._2, t.summary._1)
  }

  @Test def aNewAttemptAsksOnlyForWhatTheTargetLacks(): Unit = {
    val t = tracker()
    t.restore(target = 3, restarts = 0)
    t.adopt("c2", "n1:1", "", 128, 1)
    assertEquals(2, t.requestMissing())
    assertEquals(0, t.requestMissing())
    assertEquals(3, t.target)
  }

  @Test def concurrentAsksWithdrawalsAndGrantsKeepTheBooksStraight(): Unit = {
    val t = new ContainerTracker(maxRestarts = -1)
    val threads = (1 to 8).map { i =>
      new Thread(() => for (j <- 1 to 2000) {
        t.request(2)
        t.withdraw(1)
        if (t.allocated(s"c-$i-$j", "n:1", "", 128, 1)) {
          if (j % 3 == 0) t.completed(s"c-$i-$j", 1, "") // replaced: one more pending
          else if (j % 3 == 1) t.remove(s"c-$i-$j")
        }
      })
    }
    threads.foreach(_.start())
    threads.foreach(_.join())
    assertEquals("target = live containers not being removed + asks pending",
      t.removable.size + t.pending, t.target)
  }

  @Test def jsonEscapes(): Unit =
    assertEquals("""{"a":"x\"y\\n","b":[1,null]}""", Json.obj("a" -> "x\"y\\n", "b" -> Seq(1, None)))

  @Test def jsonRoundTrips(): Unit = {
    val text = Json.obj("s" -> "a\"b\\c\n\u00e9\ud83d\ude00", "n" -> 12, "l" -> Seq(true, false, None))
    val parsed = Json.parse(text).asInstanceOf[Map[String, Any]]
    assertEquals("a\"b\\c\n\u00e9\ud83d\ude00", parsed("s"))
    assertEquals(BigDecimal(12), parsed("n"))
    assertEquals(Seq(true, false, null), parsed("l"))
  }

  @Test def malformedJsonNamesTheOffset(): Unit = {
    val e = org.junit.Assert.assertThrows(classOf[IllegalArgumentException], () => Json.parse("{\"a\": [1,}"))
    assertTrue(e.getMessage, e.getMessage.contains("offset 9"))
  }

  @Test def aCrashLoopStopsTheReplacingWithTheReason(): Unit = {
    val t = new ContainerTracker(maxRestarts = -1, now = () => clock, maxStartFailures = 3, startGraceMs = 10000)
    t.request(1)
    for (n <- 1 to 3) {
      assertTrue(t.allocated(s"c$n", "n1:1", "", 128, 1))
      t.started(s"c$n")
      clock += 2000
      val replaced = t.completed(s"c$n", 1, "No module named distributed")
      assertEquals(s"failure $n replaced", n < 3, replaced)
    }
    assertEquals(3, t.startFailures)
    assertTrue(t.fatal.toString, t.fatal.exists(_.startsWith("3 containers in a row failed within 10 s of starting")))
    assertEquals(0, t.target)
  }

  @Test def aContainerRunningPastTheGraceEndsTheRow(): Unit = {
    val t = new ContainerTracker(maxRestarts = -1, now = () => clock, maxStartFailures = 2, startGraceMs = 10000)
    t.request(2)
    t.allocated("c1", "n1:1", "", 128, 1); t.started("c1")
    t.allocated("c2", "n1:1", "", 128, 1); t.started("c2")
    clock += 1000
    assertTrue("the first quick failure is replaced", t.completed("c1", 1, ""))
    clock += 20000 // c2 has now run for 21 s: the service works
    t.allocated("c3", "n1:1", "", 128, 1); t.started("c3")
    clock += 1000
    assertTrue("a quick failure after a healthy container starts a new row", t.completed("c3", 1, ""))
    assertEquals(1, t.startFailures)
    clock += 1000
    assertTrue("a failure after the grace is no start failure", t.completed("c2", 1, ""))
    assertEquals(0, t.startFailures)
    assertEquals(None, t.fatal)
  }

  @Test def withoutALimitFailuresOnlyCount(): Unit = {
    val t = new ContainerTracker(maxRestarts = -1, now = () => clock)
    t.request(1)
    for (n <- 1 to 5) {
      t.allocated(s"c$n", "n1:1", "", 128, 1)
      assertTrue(t.completed(s"c$n", 1, "never started"))
    }
    assertEquals(None, t.fatal)
  }
}
