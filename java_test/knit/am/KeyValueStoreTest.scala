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

  @Test def ownedKeysGoWithTheirContainer(): Unit = {
    val kv = new KeyValueStore()
    kv.set("a", "1", owner = Some("c2"))
    kv.set("b", "2", owner = Some("c2"))
    kv.set("c", "3", owner = Some("c3"))
    kv.set("b", "2 again") // set again without an owner: no one's now
    assertEquals(Seq("a"), kv.release("c2"))
    assertEquals(Map("b" -> "2 again", "c" -> "3"), kv.snapshot)
    assertEquals(Map("c" -> "c3"), kv.ownership)
  }

  @Test def compareAndSetChangesOnlyWhatItExpected(): Unit = {
    val kv = new KeyValueStore()
    assertTrue(kv.set("leader", "c2", expected = Some(None)))
    assertFalse("already set", kv.set("leader", "c3", expected = Some(None)))
    assertFalse("another value", kv.set("leader", "c3", expected = Some(Some("c9"))))
    assertTrue(kv.set("leader", "c3", expected = Some(Some("c2"))))
    assertEquals(Some("c3"), kv.get("leader"))
  }

  @Test def valuesAreBytesAndSurviveTheStateFile(): Unit = {
    val kv = new KeyValueStore()
    val binary = Array[Byte](0, -1, 10, -128, 'x')
    kv.setBytes("blob", binary, owner = Some("c2"))
    assertArrayEquals(binary, kv.getBytes("blob").get)
    assertFalse(kv.setBytes("blob", Array[Byte](1), expected = Some(Some(Array[Byte](0, -1)))))
    assertTrue(kv.setBytes("blob", binary, owner = Some("c2"), expected = Some(Some(binary.clone()))))
    val restored = new KeyValueStore()
    restored.restore(kv.snapshotBase64, kv.ownership, base64 = true)
    assertArrayEquals(binary, restored.getBytes("blob").get)
    assertEquals(Map("blob" -> "c2"), restored.ownership)
  }
}
