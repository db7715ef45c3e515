package knit.am

import org.junit.Assert._
import org.junit.Test

class ControlServerTest {
  @Test def theClientIsGoneOnlyIfTheEndpointCouldHaveServedItAllAlong(): Unit = {
    val server = new ControlServer("127.0.0.1", "secret", null)
    try {
      val now = System.currentTimeMillis()
      server.lastContactMs = now - 60000
      assertTrue("silent for 60 s, never refusing", server.clientGone(10000, now))
      server.lastRefusalMs = now - 5000
      assertFalse("turned connections away 5 s ago: the client may have been one", server.clientGone(10000, now))
      server.lastRefusalMs = now - 20000
      assertTrue(server.clientGone(10000, now))
      server.lastContactMs = now - 1000
      assertFalse(server.clientGone(10000, now))
    } finally server.stop()
  }
}
