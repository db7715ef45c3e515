package knit.am

import org.junit.Assert._
import org.junit.Test

class ClassDataSharingTest {
  private val archive = Seq("-Xmx230m", "-XX:SharedArchiveFile=/n/usercache/u/knit-cds/k.jsa")

  @Test def aMappedArchiveIsNamed(): Unit =
    assertEquals("classes mapped from this node's archive /n/usercache/u/knit-cds/k.jsa",
      ClassDataSharing.describe(archive, "mixed mode, sharing"))

  @Test def anArchiveJavaCouldNotMapIsSaidSo(): Unit =
    assertTrue(ClassDataSharing.describe(archive, "mixed mode").contains("could not be mapped"))

  @Test def recording(): Unit =
    assertTrue(ClassDataSharing.describe(Seq("-XX:DumpLoadedClassList=/x.classlist"), "mixed mode, sharing")
      .startsWith("recording"))

  @Test def noArchive(): Unit =
    assertTrue(ClassDataSharing.describe(Seq("-Xmx230m"), "mixed mode, sharing").startsWith("no class-data"))
}
