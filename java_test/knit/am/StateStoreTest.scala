package knit.am

import java.nio.charset.StandardCharsets.UTF_8
import java.util.Base64

import org.junit.Assert._
import org.junit.Test

class StateStoreTest {
  private def b64(text: String) = Base64.getEncoder.encodeToString(text.getBytes(UTF_8))

  /** The changes a store tells its journal, as the lines StateStore writes. */
  private def journalOf(use: KeyValueStore => Unit): (KeyValueStore, String) = {
    val lines = Seq.newBuilder[String]
    val kv = new KeyValueStore(change => lines += StateStore.line(change))
    use(kv)
    (kv, lines.result().map(_ + "\n").mkString)
  }

  @Test def aJournalReplayedOntoItsSnapshotGivesTheStore(): Unit = {
    val (kv, journal) = journalOf { kv =>
      kv.set("a", "1")
      kv.set("b", "2", owner = Some("container_2"))
      kv.set("a", "changed")
      kv.delete("c")  // not set: nothing journaled
      kv.set("c", "3", owner = Some("container_3"))
      kv.release("container_3")
      kv.setBytes("blob", Array[Byte](0, -1, 10))
    }
    val replayed = StateStore.replay(StateStore.Saved(Map.empty, Map.empty), journal)
    assertEquals(kv.snapshotBase64, replayed.kvBase64)
    assertEquals(kv.ownership, replayed.kvOwners)
  }

  @Test def changesTheSnapshotAlreadyHoldsAreOnlyMadeAgain(): Unit = {
    // The snapshot was taken after the journal began: it holds some of its changes.
    val (_, journal) = journalOf { kv => kv.set("a", "1"); kv.delete("a"); kv.set("b", "2") }
    val snapshot = StateStore.Saved(Map.empty, Map("b" -> b64("2"), "old" -> b64("kept")))
    assertEquals(Map("b" -> b64("2"), "old" -> b64("kept")), StateStore.replay(snapshot, journal).kvBase64)
  }

  @Test def aLineCutShortEndsTheReplay(): Unit = {
    val (_, journal) = journalOf { kv => kv.set("a", "1"); kv.set("b", "2") }
    val cut = journal.dropRight(8)  // the attempt died writing the last line
    assertEquals(Map("a" -> b64("1")), StateStore.replay(StateStore.Saved(Map.empty, Map.empty), cut).kvBase64)
  }

  @Test def aSnapshotNamesItsJournalAndReadsAnOlderKnitsText(): Unit = {
    val snapshot = StateStore.Snapshot(Map("w" -> StateStore.ServiceState(3, 1, begun = true, 4)),
      Map("k" -> b64("v")), Map("k" -> "container_2"))
    val saved = StateStore.parse(snapshot.json(Some("app.am.json.journal.1.1")))
    assertEquals(Some("app.am.json.journal.1.1"), saved.journal)
    assertEquals(Map("w" -> StateStore.ServiceState(3, 1, begun = true, 4)), saved.services)
    assertEquals(Map("k" -> b64("v")), saved.kvBase64)
    val older = StateStore.parse("""{"services": {}, "kv": {"k": "text"}}""")
    assertEquals(Map("k" -> b64("text")), older.kvBase64)
    assertEquals(None, older.journal)
  }
}
