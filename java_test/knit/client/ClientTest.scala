package knit.client

import org.junit.Assert._
import org.junit.Test

class ClientTest {
  @Test def aServiceIsGrantedViewAndModifyBesideTheNamedUsersAndGroups(): Unit = {
    assertEquals(Map("VIEW_APP" -> "svc", "MODIFY_APP" -> "svc"), Client.grantedTo(Map.empty, "svc"))
    assertEquals(Map("VIEW_APP" -> "bob,svc ops", "MODIFY_APP" -> "svc ops"),
      Client.grantedTo(Map("VIEW_APP" -> "bob ops", "MODIFY_APP" -> " ops"), "svc"))
    assertEquals(Map("VIEW_APP" -> "*", "MODIFY_APP" -> "svc,bob"),
      Client.grantedTo(Map("VIEW_APP" -> "*", "MODIFY_APP" -> "svc,bob"), "svc"))
  }
}
