package knit.client

import java.nio.charset.StandardCharsets.UTF_8
import java.util.Base64

import org.apache.hadoop.yarn.api.ApplicationConstants

/** How the ApplicationMaster's container starts its JVM.
  *
  * A boot script (base64 in one variable, as for the workers) runs the JVM with the
  * flags it is given, and with class-data sharing: the first ApplicationMaster on a
  * node records the classes it loads and, once it has ended cleanly, dumps them into
  * an archive in the user's folder on that node (`usercache/USER/knit-cds`, mode 700);
  * the later ones map their Hadoop classes from it instead of loading and verifying
  * them again. The archive is named by a digest of the Java runtime, the flags (but
  * the heap size) and every classpath jar's size and time, so a changed node gets a
  * new one; the three newest are kept. A failed dump leaves a `.failed` note (Java's
  * message), tried again a day later. The
  * classpath is YARN's (`CLASSPATH`), reordered for sharing: jars first, folders (the
  * configuration) last, and `knit.jar` by its stable path in the node's cache.
  * `KNIT_CDS=0` in the submitting process turns it off.
  */
object AmLaunch {
  val BootVar = "KNIT_AM_BOOT_B64"
  val ScriptName = "knit-am.sh"

  val bootScript: String =
    """# written by knit: start the ApplicationMaster; its JVM flags are this script's arguments
      |KEEP=3  # archives kept on this node (the newest)
      |jars=() folders=()
      |IFS=: read -ra entries <<<"$CLASSPATH"
      |for entry in "${entries[@]}"; do
      |  case "$entry" in
      |    "") ;;
      |    */knit.jar) jars+=("$(readlink -f "$entry")") ;;
      |    *"*"|*.jar) jars+=("$entry") ;;
      |    *) folders+=("$entry") ;;
      |  esac
      |done
      |all=("${jars[@]}" "${folders[@]}")
      |classpath="$(IFS=:; printf %s "${all[*]}")"
      |sharing=() record=""
      |root="${LOCAL_USER_DIRS%%,*}"; root="${root%/}/knit-cds"
      |if [ "${KNIT_CDS:-1}" != 0 ] && mkdir -p "$root" 2>/dev/null && chmod 700 "$root" 2>/dev/null; then
      |  key="$({ printf '%s\n' "$JAVA_HOME" "$classpath"; printf '%s\n' "$@" | grep -v '^-Xmx'
      |           for entry in "${jars[@]}"; do stat -L -c '%n %s %Y' $entry; done
      |           stat -L -c '%s %Y' "$JAVA_HOME/lib/modules"; } 2>/dev/null | sha256sum | cut -c1-24)"
      |  archive="$root/$key.jsa"
      |  lock="$root/$key.lock"  # holds the pid of the script that records
      |  holder="$(cat "$lock" 2>/dev/null)"
      |  if [ -n "$holder" ] && [ ! -d "/proc/$holder" ]; then  # killed while recording
      |    rm -f "$lock" "$root/$key".*.classlist
      |  fi
      |  if [ -s "$archive" ]; then
      |    sharing=("-XX:SharedArchiveFile=$archive" -Xlog:cds=off -Xlog:cds+dynamic=off)
      |  elif [ -z "$(find "$root" -maxdepth 1 -name "$key.failed" -mmin -1440)" ] &&
      |      (set -o noclobber; echo $$ >"$lock") 2>/dev/null; then
      |    record="$root/$key.$CONTAINER_ID.classlist"
      |    sharing=("-XX:DumpLoadedClassList=$record")
      |  fi
      |fi
      |if [ -z "$record" ]; then
      |  exec "$JAVA_HOME/bin/java" "$@" "${sharing[@]}" -cp "$classpath" knit.am.ApplicationMaster
      |fi
      |"$JAVA_HOME/bin/java" "$@" "${sharing[@]}" -cp "$classpath" knit.am.ApplicationMaster
      |status=$?
      |if [ "$status" = 0 ] && [ -s "$record" ]; then
      |  flags=(); for flag in "$@"; do case "$flag" in -Xshare:*) ;; *) flags+=("$flag") ;; esac; done
      |  partial="$archive.$CONTAINER_ID" notes="$root/$key.$CONTAINER_ID.log"
      |  if "$JAVA_HOME/bin/java" "${flags[@]}" -Xshare:dump "-XX:SharedClassListFile=$record" \
      |      "-XX:SharedArchiveFile=$partial" -Xlog:cds=error -cp "$classpath" >"$notes" 2>&1; then
      |    mv -f "$partial" "$archive"
      |    ls -1t "$root"/*.jsa | tail -n +$((KEEP + 1)) | while read -r old; do rm -f "$old"; done
      |    echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) knit-am: this node's class-data sharing archive written: $archive"
      |  else
      |    mv -f "$notes" "$root/$key.failed"
      |  fi
      |  rm -f "$partial" "$notes"
      |fi
      |rm -f "$record" "$lock"
      |exit "$status"
      |""".stripMargin

  val bootScriptB64: String = Base64.getEncoder.encodeToString(bootScript.getBytes(UTF_8))

  /** The container's command: the boot script with `flags` (each one shell word). */
  def command(flags: Seq[String]): String = {
    val logDir = ApplicationConstants.LOG_DIR_EXPANSION_VAR
    (Seq("base64 -d <<<$" + BootVar + s" >$ScriptName && exec /bin/bash $ScriptName") ++
      flags.map(Client.shellQuote) ++ Seq(s"1>>$logDir/am.stdout", s"2>>$logDir/am.stderr")).mkString(" ")
  }

  /** The variables the boot script needs besides YARN's own. */
  def environment(): Map[String, String] =
    Map(BootVar -> bootScriptB64) ++ sys.env.get("KNIT_CDS").map("KNIT_CDS" -> _)
}
