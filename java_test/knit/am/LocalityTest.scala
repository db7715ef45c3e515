package knit.am

import org.junit.Assert._
import org.junit.Test

class LocalityTest {
  private val fourNodes = new Locality(Map("a" -> 10, "b" -> 10, "c" -> 5, "d" -> 0))

  @Test def aSmallBurstNamesNoNode(): Unit =
    assertEquals(Seq(None, None, None), fourNodes.plan(3, Map.empty))

  @Test def aLargeBurstIsSpreadByRoom(): Unit = {
    val planned = fourNodes.plan(20, Map.empty).flatten.groupBy(identity).map { case (h, s) => h -> s.size }
    assertEquals(Map("a" -> 8, "b" -> 8, "c" -> 4), planned) // 2, 2 and 1 left; d has no room
  }

  @Test def heldContainersCountAgainstTheirNode(): Unit = {
    val planned = fourNodes.plan(6, Map("a" -> 9, "b" -> 9)).flatten
    assertEquals(Seq("c", "c", "c", "c", "c", "b"), planned)
  }

  @Test def beyondTheRoomAsksNameNoNode(): Unit = {
    val planned = new Locality(Map("a" -> 2, "b" -> 1)).plan(5, Map.empty)
    assertEquals(3, planned.flatten.size)
    assertEquals(2, planned.count(_.isEmpty))
  }

  @Test def withoutHintsNothingIsNamed(): Unit =
    assertTrue(Locality.None.plan(50, Map.empty).forall(_.isEmpty))

  @Test def aLostNodeIsNoLongerNamedAndANewOneIs(): Unit = {
    val locality = new Locality(Map("a" -> 10, "b" -> 10, "c" -> 10))
    locality.forget("b")
    locality.update("d", 10)
    val planned = locality.plan(12, Map.empty).flatten.toSet
    assertEquals(Set("a", "c", "d"), planned)
    locality.update("a", 0) // full
    assertEquals(Seq("c", "d"), locality.hosts)
  }
}
