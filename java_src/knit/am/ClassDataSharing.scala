package knit.am

import knit.contract._

import java.net.InetAddress
import java.nio.ByteBuffer
import java.nio.charset.StandardCharsets.UTF_8
import java.util.{Base64, List => JList}

import scala.jdk.CollectionConverters._

import org.apache.hadoop.fs.{FileSystem, Path}
import org.apache.hadoop.fs.permission.FsPermission
import org.apache.hadoop.yarn.api.ApplicationConstants
import org.apache.hadoop.yarn.api.ApplicationConstants.Environment
import org.apache.hadoop.yarn.api.records._
import org.apache.hadoop.yarn.client.api.AMRMClient.ContainerRequest
import org.apache.hadoop.yarn.client.api.NMClient
import org.apache.hadoop.yarn.client.api.async.{AMRMClientAsync, NMClientAsync}
import org.apache.hadoop.yarn.conf.YarnConfiguration
import org.apache.hadoop.yarn.util.Records

/** What the ApplicationMaster's JVM says about its class-data sharing (see the boot
  * script `knit.cds.am_boot_script` writes), for its log. */
object ClassDataSharing {
  def describe(arguments: Seq[String] = java.lang.management.ManagementFactory.getRuntimeMXBean
                 .getInputArguments.asScala.toSeq,
               vmInfo: String = System.getProperty("java.vm.info", "")): String = {
    def flag(name: String) = arguments.collectFirst { case a if a.startsWith(s"-XX:$name=") => a.split("=", 2)(1) }
    (flag("SharedArchiveFile"), flag("DumpLoadedClassList")) match {
      // With an archive named, Java shares nothing at all when it cannot map that one.
      case (Some(archive), _) if vmInfo.contains("sharing") => s"classes mapped from this node's archive $archive"
      case (Some(archive), _) => s"this node's archive $archive could not be mapped: classes loaded from the jars"
      case (None, Some(_)) => "recording the classes it loads, for this node's class-data sharing archive"
      case _ => "no class-data sharing archive on this node (KNIT_CDS=0, or another ApplicationMaster records one)"
    }
  }
}
