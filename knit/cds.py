"""Class-data sharing for the client JVM: its Hadoop classes mapped from an archive.

A cold client JVM spends most of its first second loading and verifying the few
thousand classes of Hadoop's HDFS and YARN clients. Java's class-data sharing (CDS)
keeps them, parsed and verified, in an archive the JVM maps at start. knit makes one
per user and per classpath, without asking:

1. a JVM with no archive yet records the classes it loads (``-XX:DumpLoadedClassList``);
2. when it has exited cleanly, a background process dumps the archive from that list
   (``java -Xshare:dump``, a few seconds; the user's process does not wait for it);
3. every later client JVM with the same Java and the same jars maps it.

The archives live in ``$KNIT_CDS_DIR`` (default ``~/.cache/knit/cds``, mode 700: an
archive is code, so only its owner may write one). Each is named by a digest of the
Java runtime, the JVM flags and every jar's path, size and modification time, so a
changed jar means a new archive, never a stale one; the four newest are kept.
``KNIT_CDS=0`` turns it off. A dump that fails leaves a ``.failed`` note with Java's
message and is not tried again for a day.
"""

from __future__ import annotations

import glob
import hashlib
import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from .utils import cache_folder

logger = logging.getLogger(__name__)

#: A build older than this is taken for dead (its lock is ignored).
STALE_LOCK_SECONDS = 600
#: How long a dump may take before it is abandoned.
DUMP_TIMEOUT_SECONDS = 300
#: Archives kept (the newest; about 50 MB each): one per Java and set of jars in use.
KEEP_ARCHIVES = 4
#: A failed dump is tried again after this long (its note says why it failed).
RETRY_FAILED_SECONDS = 86400


def enabled() -> bool:
    """Whether knit uses class-data sharing (``KNIT_CDS=0`` turns it off)."""
    return os.environ.get("KNIT_CDS", "1").strip().lower() not in ("0", "false", "no", "off")


def cache_dir() -> Path:
    """Where the archives live: ``$KNIT_CDS_DIR``, else ``$XDG_CACHE_HOME/knit/cds``
    (``~/.cache/knit/cds``)."""
    return cache_folder("cds", "KNIT_CDS_DIR")


def sharing_order(classpath: list[str]) -> list[str]:
    """``classpath`` with its jars (and ``dir/*`` wildcards) first, folders last.

    Java refuses to archive classes from a classpath whose entries before the last
    archived jar include a non-empty folder (such as ``HADOOP_CONF_DIR``); folders
    hold only configuration files here, which no jar shadows.
    """
    def is_jars(entry: str) -> bool:
        return entry.endswith(("*", ".jar")) or Path(entry).is_file()

    return [e for e in classpath if is_jars(e)] + [e for e in classpath if not is_jars(e)]


def _expanded(entry: str) -> list[str]:
    if entry.endswith("*"):
        return sorted(glob.glob(entry[:-1] + "*.jar") + glob.glob(entry[:-1] + "*.JAR"))
    return [entry]


def _stamp(path: str) -> str:
    try:
        stat = os.stat(path)
    except OSError:
        return f"{path}:missing"
    return f"{path}:{stat.st_size}:{stat.st_mtime_ns}"


def archive_key(java: str, classpath: list[str], flags: list[str]) -> str:
    """A digest of everything an archive depends on: the Java runtime (its binary
    and module image), the JVM flags, and every classpath jar's path, size and
    modification time."""
    home = Path(os.path.realpath(java)).parent.parent
    parts = [_stamp(os.path.realpath(java)), _stamp(str(home / "lib" / "modules")), *flags]
    parts += [_stamp(jar) for entry in classpath for jar in _expanded(entry)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]


class SharedArchive:
    """The archive of one client JVM's command line: the flags that use or record it,
    and the build once the recording JVM has exited.

    Parameters
    ----------
    java : str
        The ``java`` binary.
    classpath : list of str
        The JVM's classpath, in :func:`sharing_order`.
    flags : list of str
        Every other JVM flag (they must be the same when dumping).
    """

    def __init__(self, java: str, classpath: list[str], flags: list[str]):
        self.java, self.classpath, self.jvm_flags = java, classpath, flags
        self.folder = cache_dir()
        self.key = archive_key(java, classpath, flags)
        self.archive = self.folder / f"{self.key}.jsa"
        self.failed = self.folder / f"{self.key}.failed"
        self.lock = self.folder / f"{self.key}.lock"
        self.recording: Path | None = None

    def flags(self) -> list[str]:
        """The JVM flags: map the archive if there is one, else record the classes
        loaded (unless a build runs or failed before)."""
        if self.archive.is_file():
            # A mismatch (which the key makes unlikely) must not print to stdout,
            # where the gateway reports its port: Java then just loads the classes.
            return [f"-XX:SharedArchiveFile={self.archive}", "-Xlog:cds=off", "-Xlog:cds+dynamic=off"]
        if self._failed_recently() or self._build_running():
            return []
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            logger.debug("no class-data sharing: %s", exc)
            return []
        # One file per JVM: a process may start several (a login each, a dead one replaced).
        self.recording = self.folder / f"{self.key}.{os.getpid()}.{secrets.token_hex(4)}.classlist"
        return [f"-XX:DumpLoadedClassList={self.recording}"]

    def _failed_recently(self) -> bool:
        try:
            return time.time() - self.failed.stat().st_mtime < RETRY_FAILED_SECONDS
        except FileNotFoundError:
            return False

    def _build_running(self) -> bool:
        try:
            return time.time() - self.lock.stat().st_mtime < STALE_LOCK_SECONDS
        except FileNotFoundError:
            return False

    def _take_lock(self) -> bool:
        for _ in range(2):
            try:
                os.close(os.open(self.lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
                return True
            except FileExistsError:
                if self._build_running():
                    return False
                self.lock.unlink(missing_ok=True)  # left by a build that was killed
        return False

    def jvm_exited(self, returncode: int) -> None:
        """Start the archive's build in the background if this JVM recorded its
        classes and exited cleanly (a killed JVM's list may be cut short)."""
        recording, self.recording = self.recording, None
        if recording is None:
            return
        if returncode != 0 or not recording.is_file() or recording.stat().st_size == 0:
            recording.unlink(missing_ok=True)
            return
        if not self._take_lock():
            recording.unlink(missing_ok=True)  # another process builds it
            return
        spec = {"java": self.java, "classpath": self.classpath, "flags": self.jvm_flags,
                "classlist": str(recording), "archive": str(self.archive),
                "failed": str(self.failed), "lock": str(self.lock)}
        subprocess.Popen(  # noqa: S603 - our own module, our own arguments
            [sys.executable, "-m", "knit.cds", json.dumps(spec)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, close_fds=True)


def prune(folder: Path, keep: int = KEEP_ARCHIVES) -> None:
    """Delete all but the ``keep`` newest archives of ``folder`` (a JVM that maps one
    keeps its mapping), and the class lists and locks of builds that were killed."""
    def modified(path: Path) -> float:
        try:
            return path.stat().st_mtime
        except FileNotFoundError:  # pruned by another process meanwhile
            return 0.0

    archives = sorted(folder.glob("*.jsa"), key=modified, reverse=True)
    for old in archives[keep:]:
        old.unlink(missing_ok=True)
    for leftover in [*folder.glob("*.classlist"), *folder.glob("*.lock")]:
        if time.time() - modified(leftover) > STALE_LOCK_SECONDS:  # of builds killed
            leftover.unlink(missing_ok=True)


def build(spec: dict) -> bool:
    """Dump the archive a :class:`SharedArchive` asked for (in its own process).

    Returns whether the archive was written; when Java fails, the ``.failed`` note
    gets its last lines (a dump killed by a signal is tried again by a later JVM).
    The class list and the lock are removed either way.
    """
    archive = Path(spec["archive"])
    partial = archive.with_name(f"{archive.name}.{os.getpid()}.partial")
    command = [spec["java"], *[f for f in spec["flags"] if not f.startswith("-Xshare")],
               "-Xshare:dump", f"-XX:SharedClassListFile={spec['classlist']}",
               f"-XX:SharedArchiveFile={partial}", "-Xlog:cds=error",
               "-cp", os.pathsep.join(spec["classpath"])]
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False,
                                timeout=DUMP_TIMEOUT_SECONDS)
        ok = result.returncode == 0 and partial.is_file()
        if ok:
            os.replace(partial, archive)
            prune(archive.parent)
        elif result.returncode > 0:  # Java's verdict (a signal, as from a cluster's `down`, is none)
            Path(spec["failed"]).write_text(
                f"{' '.join(command)}\nexit {result.returncode}\n"
                + (result.stdout + result.stderr)[-3000:])
        return ok
    except subprocess.TimeoutExpired:
        Path(spec["failed"]).write_text(f"the dump took over {DUMP_TIMEOUT_SECONDS} s")
        return False
    finally:
        partial.unlink(missing_ok=True)
        Path(spec["classlist"]).unlink(missing_ok=True)
        Path(spec["lock"]).unlink(missing_ok=True)


def _stop(signum, frame) -> None:
    raise SystemExit(128 + signum)  # runs build()'s clean-up; no .failed note


if __name__ == "__main__":
    os.nice(10)
    signal.signal(signal.SIGTERM, _stop)
    build(json.loads(sys.argv[1]))


# ------------------------------------------------------- the ApplicationMaster's
#: Archives an ApplicationMaster keeps on each node (the newest), in the user's folder
#: there (``usercache/USER/knit-cds``, mode 700).
KEEP_NODE_ARCHIVES = 3

_AM_BOOT = r"""# written by knit: start the ApplicationMaster; its JVM flags are this script's arguments
SHARING=@SHARING@  # class-data sharing (KNIT_CDS of the submitting process)
KEEP=@KEEP@  # archives kept on this node (the newest)
RETRY_MINUTES=@RETRY@  # a failed dump is tried again after this long
jars=() folders=()
IFS=: read -ra entries <<<"$CLASSPATH"
for entry in "${entries[@]}"; do
  case "$entry" in
    "") ;;
    */knit.jar) jars+=("$(readlink -f "$entry")") ;;
    *"*"|*.jar) jars+=("$entry") ;;
    *) folders+=("$entry") ;;
  esac
done
all=("${jars[@]}" "${folders[@]}")
classpath="$(IFS=:; printf %s "${all[*]}")"
sharing=() record=""
root="${LOCAL_USER_DIRS%%,*}"; root="${root%/}/knit-cds"
if [ "$SHARING" = 1 ] && mkdir -p "$root" 2>/dev/null && chmod 700 "$root" 2>/dev/null; then
  key="$({ printf '%s\n' "$JAVA_HOME" "$classpath"; printf '%s\n' "$@" | grep -v '^-Xmx'
           for entry in "${jars[@]}"; do stat -L -c '%n %s %Y' $entry; done
           stat -L -c '%s %Y' "$JAVA_HOME/lib/modules"; } 2>/dev/null | sha256sum | cut -c1-24)"
  archive="$root/$key.jsa"
  lock="$root/$key.lock"  # holds the pid of the script that records
  holder="$(cat "$lock" 2>/dev/null)"
  if [ -n "$holder" ] && [ ! -d "/proc/$holder" ]; then  # killed while recording
    rm -f "$lock" "$root/$key".*.classlist
  fi
  if [ -s "$archive" ]; then
    sharing=("-XX:SharedArchiveFile=$archive" -Xlog:cds=off -Xlog:cds+dynamic=off)
  elif [ -z "$(find "$root" -maxdepth 1 -name "$key.failed" -mmin -"$RETRY_MINUTES")" ] &&
      (set -o noclobber; echo $$ >"$lock") 2>/dev/null; then
    record="$root/$key.$CONTAINER_ID.classlist"
    sharing=("-XX:DumpLoadedClassList=$record")
  fi
fi
if [ -z "$record" ]; then
  exec "$JAVA_HOME/bin/java" "$@" "${sharing[@]}" -cp "$classpath" knit.am.ApplicationMaster
fi
"$JAVA_HOME/bin/java" "$@" "${sharing[@]}" -cp "$classpath" knit.am.ApplicationMaster
status=$?
if [ "$status" = 0 ] && [ -s "$record" ]; then
  flags=(); for flag in "$@"; do case "$flag" in -Xshare:*) ;; *) flags+=("$flag") ;; esac; done
  partial="$archive.$CONTAINER_ID" notes="$root/$key.$CONTAINER_ID.log"
  if "$JAVA_HOME/bin/java" "${flags[@]}" -Xshare:dump "-XX:SharedClassListFile=$record" \
      "-XX:SharedArchiveFile=$partial" -Xlog:cds=error -cp "$classpath" >"$notes" 2>&1; then
    mv -f "$partial" "$archive"
    ls -1t "$root"/*.jsa | tail -n +$((KEEP + 1)) | while read -r old; do rm -f "$old"; done
    echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) knit-am: this node's class-data sharing archive written: $archive"
  else
    mv -f "$notes" "$root/$key.failed"
  fi
  rm -f "$partial" "$notes"
fi
rm -f "$record" "$lock"
exit "$status"
"""


def am_boot_script(sharing: bool | None = None) -> str:
    """The bash script the ApplicationMaster's container runs (shipped in the launch
    contract as ``am.boot_script``): it starts the AM's JVM with the flags it is given
    and, with ``sharing`` (default: :func:`enabled`), the same class-data sharing as
    the client's, on each node: the first ApplicationMaster there records the classes
    it loads and, once it has ended cleanly, dumps them into an archive the later ones
    map. Its archives are named by a digest of the Java runtime, the flags (but the
    heap) and every classpath jar's size and time; a failed dump leaves a ``.failed``
    note and is tried again after :data:`RETRY_FAILED_SECONDS`."""
    sharing = enabled() if sharing is None else sharing
    return (_AM_BOOT.replace("@SHARING@", "1" if sharing else "0")
            .replace("@KEEP@", str(KEEP_NODE_ARCHIVES))
            .replace("@RETRY@", str(RETRY_FAILED_SECONDS // 60)))


def am_heap_mb(memory_mb: int) -> int:
    """The ApplicationMaster JVM's ``-Xmx`` in a container of ``memory_mb``: 60 %, the
    rest for the JVM's own memory (metaspace, threads, the mapped archive)."""
    return max(64, int(memory_mb * 0.6))
