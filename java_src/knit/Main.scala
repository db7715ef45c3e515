package knit

import org.apache.hadoop.util.VersionInfo

/** Prints which knit jar and which Hadoop it runs with.
  *
  * The smallest real entry point of the knit jar: `hadoop jar knit.jar knit.Main`
  * proves that the jar runs against the Hadoop found on a cluster's classpath.
  */
object Main {
  def describe(): String = {
    val knitVersion = Option(getClass.getPackage.getImplementationVersion).getOrElse("dev")
    s"knit $knitVersion on Hadoop ${VersionInfo.getVersion}"
  }

  def main(args: Array[String]): Unit = println(describe())
}
