package knit.am

import knit.contract._

import java.io.File
import java.nio.charset.StandardCharsets.UTF_8
import java.nio.file.{Files, Paths}
import java.nio.file.attribute.PosixFilePermissions

/** The user's driver script (Skein's `master.script`), run beside the ApplicationMaster
  * in its container: bash runs the boot script Python wrote, with its working folder
  * the container's (where its files were localized), its output in the container's log
  * folder as `driver.stdout` and `driver.stderr`, and the control endpoint's address
  * and secret (a mode-600 file, `knit-control.secret`) to call its own application.
  *
  * @param spec what it runs
  * @param facts variables besides its own `env` (the application id, the endpoint)
  * @param secret the control secret
  * @param exited called once with its exit code and the last lines of its stderr
  */
final class Driver(spec: DriverSpec, facts: Map[String, String], secret: String, exited: (Int, String) => Unit) {
  @volatile private var process: Process = _

  def start(): Unit = {
    val folder = Paths.get("").toAbsolutePath
    val script = folder.resolve("knit-driver.sh")
    Files.write(script, spec.bootScript.getBytes(UTF_8))
    val secretFile = folder.resolve(LaunchContract.SecretName)
    if (!Files.exists(secretFile)) {
      Files.createFile(secretFile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))
      Files.write(secretFile, secret.getBytes(UTF_8))
    }
    val logs = sys.env.get("LOG_DIRS").map(_.split(",").head).getOrElse(folder.toString)
    val stderr = new File(logs, "driver.stderr")
    val builder = new ProcessBuilder("/bin/bash", script.toString).directory(folder.toFile)
      .redirectOutput(new File(logs, "driver.stdout")).redirectError(stderr)
    val env = builder.environment()
    // The ApplicationMaster's JVM settings are not the driver's business.
    Seq("KNIT_AM_BOOT_B64", "KNIT_CONTRACT", "CLASSPATH").foreach(env.remove)
    (facts ++ spec.env).foreach { case (k, v) => env.put(k, v) }
    process = builder.start()
    val watcher = new Thread(() => { val code = process.waitFor(); exited(code, Driver.tail(stderr)) },
      "knit-driver-watch")
    watcher.setDaemon(true)
    watcher.start()
  }

  /** Stop it (the application is finishing for another reason), its children too. */
  def stop(): Unit = if (process != null && process.isAlive) {
    process.descendants().forEach(p => { p.destroy(); () })
    process.destroy()
    if (!process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) process.destroyForcibly()
  }
}

object Driver {
  /** Lines of its stderr the diagnostics quote. */
  val TailLines = 5

  /** The last lines of a file (at most its last 4 KiB), or "". */
  def tail(file: File): String = try {
    val bytes = Files.readAllBytes(file.toPath)
    val text = new String(bytes.takeRight(4096), UTF_8)
    text.linesIterator.toSeq.filter(_.trim.nonEmpty).takeRight(TailLines).mkString("\n")
  } catch { case _: java.io.IOException => "" }
}
