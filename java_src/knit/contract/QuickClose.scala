package knit.contract

import org.apache.hadoop.conf.Configuration
import org.apache.hadoop.hdfs.HdfsConfiguration

/** HDFS client settings for the small files knit writes (records, the launch contract,
  * the ApplicationMaster's saved state).
  *
  * Closing an HDFS file asks the NameNode to complete it; when the DataNode has not yet
  * reported the last block, the client waits `initial.delay.ms` (400 by default) and
  * asks again, doubling. For a file of a few bytes that wait is most of its cost: a
  * saved key took 12 ms, or 410 ms when the NameNode was asked first. knit starts at
  * 25 ms and allows more retries, so the total patience stays about as long (25 s).
  * A site's own values are kept. */
object QuickClose {
  private val DelayKey = "dfs.client.block.write.locateFollowingBlock.initial.delay.ms"
  private val RetriesKey = "dfs.client.block.write.locateFollowingBlock.retries"
  private val HadoopDefaultDelayMs = 400
  val DelayMs = 25
  val Retries = 10

  def apply(conf: Configuration): Unit = {
    HdfsConfiguration.init() // hdfs-site.xml read, so a site's setting is seen
    if (conf.getInt(DelayKey, HadoopDefaultDelayMs) == HadoopDefaultDelayMs) {
      conf.setInt(DelayKey, DelayMs)
      conf.setInt(RetriesKey, math.max(conf.getInt(RetriesKey, 5), Retries))
    }
  }
}
