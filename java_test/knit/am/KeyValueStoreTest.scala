package knit.am

import org.junit.Assert._
import org.junit.Test

class KeyValueStoreTest {
  @Test def aWaitingReaderGetsTheValueOnceSet(): Unit = {
    val kv = new KeyValueStore()
    new Thread(() => { Thread.sleep(200); kv.set("scheduler", "tcp://h:1") }).start()
    val started = System.currentTimeMillis()
    assertEquals(Some("tcp://h:1"), kv.get("scheduler", 5000))
    assertTrue(System.currentTimeMillis() - started < 4000)
    assertEquals(None, kv.get("other", 50))
  }

  @Test def keysAreChecked(): Unit = {
    assertEquals(None, KeyValueStore.badKey("dask.scheduler-1_x"))
    assertTrue(KeyValueStore.badKey("../x").nonEmpty)
    assertTrue(KeyValueStore.badKey("").nonEmpty)
  }
}
