package knit.client

import java.net.InetAddress

import py4j.GatewayServer

/** The JVM that Python drives: a py4j gateway on the loopback address.
  *
  * The auth token comes from the environment (never the command line); the chosen
  * port is printed as the first line of stdout; the JVM exits as soon as its stdin
  * reaches end-of-file, so it never outlives the Python process that started it.
  */
object GatewayMain {
  def main(args: Array[String]): Unit = {
    val token = sys.env.getOrElse("KNIT_GATEWAY_TOKEN", {
      System.err.println("KNIT_GATEWAY_TOKEN is not set")
      sys.exit(2)
    })
    val server = new GatewayServer.GatewayServerBuilder(new Entry())
      .javaAddress(InetAddress.getLoopbackAddress)
      .javaPort(0)
      .authToken(token)
      .build()
    server.start()
    println(server.getListeningPort)
    System.out.flush()
    while (System.in.read() != -1) {}
    server.shutdown()
    sys.exit(0)
  }
}

/** The gateway's entry point: one [[Client]] per Python `Knit`, each with its own configuration. */
class Entry {
  def newClient(): Client = new Client()

  def hadoopVersion(): String = org.apache.hadoop.util.VersionInfo.getVersion
}
