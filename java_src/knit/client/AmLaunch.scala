package knit.client

import java.nio.charset.StandardCharsets.UTF_8
import java.util.Base64

import org.apache.hadoop.yarn.api.ApplicationConstants

/** How the ApplicationMaster's container starts its JVM: the boot script Python wrote
  * (`knit.cds.am_boot_script`, the contract's `am.boot_script`: its class-data sharing
  * follows the client's policy), base64 in one variable as for the workers, run with
  * the JVM flags as its arguments.
  */
object AmLaunch {
  val BootVar = "KNIT_AM_BOOT_B64"
  val ScriptName = "knit-am.sh"

  /** The container's command: the boot script with `flags` (each one shell word). */
  def command(flags: Seq[String]): String = {
    val logDir = ApplicationConstants.LOG_DIR_EXPANSION_VAR
    (Seq("base64 -d <<<$" + BootVar + s" >$ScriptName && exec /bin/bash $ScriptName") ++
      flags.map(Client.shellQuote) ++ Seq(s"1>>$logDir/am.stdout", s"2>>$logDir/am.stderr")).mkString(" ")
  }

  /** The variables the boot script needs besides YARN's own. */
  def environment(bootScript: String): Map[String, String] =
    Map(BootVar -> Base64.getEncoder.encodeToString(bootScript.getBytes(UTF_8)))
}
