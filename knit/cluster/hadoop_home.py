"""A Hadoop installation assembled from Maven Central jars.

The layout is the one of a Hadoop tarball, so tools written for an ordinary
install run against it unchanged::

    hadoop/
      bin/hadoop  bin/yarn  bin/hdfs      thin launchers of Hadoop's own CLI classes
      libexec/knit-hadoop-env.sh          what the launchers share
      share/hadoop/common/*.jar, common/lib/*.jar, hdfs/*.jar, yarn/*.jar

The jars are symbolic links into ``~/.m2`` or knit's jar cache (:mod:`knit.jarset`),
so a layout costs no copying and a second cluster downloads nothing.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Callable

from .. import jarset
from ..exceptions import ClusterError, ToolNotFoundError
from ..java import LEAN_FLAGS, find_java_home, java_opens_flags

#: Sub-folders of share/hadoop whose jars (and lib/ jars) make up every classpath.
SHARE_DIRS = ["common", "common/lib", "hdfs", "hdfs/lib", "yarn", "yarn/lib"]

_MARKER = ".knit-layout"

#: Launcher sub-commands: name -> Java main class (None: handled by the script).
HADOOP_COMMANDS = {
    "fs": "org.apache.hadoop.fs.FsShell",
    "jar": "org.apache.hadoop.util.RunJar",
    "version": "org.apache.hadoop.util.VersionInfo",
    "classpath": None,
}
HDFS_COMMANDS = {
    "dfs": "org.apache.hadoop.fs.FsShell",
    "dfsadmin": "org.apache.hadoop.hdfs.tools.DFSAdmin",
    "getconf": "org.apache.hadoop.hdfs.tools.GetConf",
    "fsck": "org.apache.hadoop.hdfs.tools.DFSck",
    "version": "org.apache.hadoop.util.VersionInfo",
    "classpath": None,
}
YARN_COMMANDS = {
    "application": "org.apache.hadoop.yarn.client.cli.ApplicationCLI",
    "applicationattempt": "org.apache.hadoop.yarn.client.cli.ApplicationCLI",
    "container": "org.apache.hadoop.yarn.client.cli.ApplicationCLI",
    "logs": "org.apache.hadoop.yarn.client.cli.LogsCLI",
    "node": "org.apache.hadoop.yarn.client.cli.NodeCLI",
    "queue": "org.apache.hadoop.yarn.client.cli.QueueCLI",
    "cluster": "org.apache.hadoop.yarn.client.cli.ClusterCLI",
    "rmadmin": "org.apache.hadoop.yarn.client.cli.RMAdminCLI",
    "top": "org.apache.hadoop.yarn.client.cli.TopCLI",
    "jar": "org.apache.hadoop.util.RunJar",
    "version": "org.apache.hadoop.util.VersionInfo",
    "classpath": None,
}
#: ApplicationCLI tells its three faces apart by the sub-command it is given first.
_PASS_SUBCOMMAND = {"application", "applicationattempt", "container"}


def share_subdir(jar_name: str) -> str:
    """Where a jar goes under ``share/hadoop``, as in a Hadoop tarball."""
    if jar_name.startswith("hadoop-hdfs"):
        return "hdfs"
    if jar_name.startswith("hadoop-yarn"):
        return "yarn"
    if jar_name.startswith(("hadoop-common", "hadoop-registry", "hadoop-kms", "hadoop-nfs")):
        return "common"
    return "common/lib"


def classpath_entries(home: Path) -> list[str]:
    """The classpath of an install, in Hadoop's order: the HDFS folder (for its
    ``webapps/``), then every jar folder as a wildcard."""
    share = home / "share" / "hadoop"
    return [str(share / "hdfs")] + [str(share / sub / "*") for sub in SHARE_DIRS]


#: The file system knit's jar provides for NodeManagers (``java_src/knit/cluster``):
#: Hadoop's local one, setting permissions without a ``chmod`` process per file.
NIO_LOCAL_FS = "knit.cluster.NioLocalFs"


def _layout_is_current(home: Path, key: str) -> bool:
    marker = home / _MARKER
    if not marker.is_file() or marker.read_text().strip() != key:
        return False
    links = list((home / "share" / "hadoop").glob("*/**/*.jar"))
    # Links into the owner's caches (made by earlier knit versions) are remade.
    return bool(links) and all(link.exists() and not link.is_symlink() for link in links)


def ensure_hadoop_home(
    home: Path,
    conf_dir: Path,
    resolve_jars: Callable[[], list[Path]] = jarset.hadoop_jars,
) -> Path:
    """Create (or reuse) the Hadoop install at ``home`` whose config is ``conf_dir``.

    The jars are looked up (and downloaded if missing) only when the layout is
    missing, was made from another jar set, or lost a jar; otherwise this costs a
    few file checks.
    """
    key = jarset.lock_key()
    if not _layout_is_current(home, key):
        _link_jars(home, resolve_jars())
        (home / _MARKER).write_text(key + "\n")
    write_launchers(home, conf_dir)
    return home


def _link_jars(home: Path, jars: list[Path]) -> None:
    share = home / "share" / "hadoop"
    for sub in SHARE_DIRS:
        folder = share / sub
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.jar"):
            old.unlink()
    for jar in jars:
        if jar.name.endswith("-tests.jar"):
            if jar.name.startswith("hadoop-hdfs-"):
                _extract_webapps(jar, share / "hdfs")
            continue
        _place_jar(jar, share / share_subdir(jar.name) / jar.name)


def _place_jar(jar: Path, target: Path) -> None:
    """Put ``jar`` at ``target`` readable by every user of the machine: a hard link
    (no copy) where the two share a file system, else a copy. A symbolic link would
    lead other users into the owner's private caches."""
    try:
        os.link(jar, target)
    except OSError:
        shutil.copyfile(jar, target)
    if target.stat().st_mode & 0o044 != 0o044:
        try:
            target.chmod(0o644)
        except PermissionError:  # a linked file of someone else's: copy it instead
            target.unlink()
            shutil.copyfile(jar, target)
            target.chmod(0o644)


def _extract_webapps(jar: Path, dest: Path) -> None:
    """Unpack ``webapps/`` of a jar into ``dest``, as a Hadoop tarball has it."""
    shutil.rmtree(dest / "webapps", ignore_errors=True)
    with zipfile.ZipFile(jar) as archive:
        members = [name for name in archive.namelist() if name.startswith("webapps/")]
        archive.extractall(dest, members=members)


def _case_arms(commands: dict[str, str | None]) -> str:
    arms = []
    for name, main_class in commands.items():
        if main_class is None:
            body = 'knit_classpath "$@"'
        elif name in _PASS_SUBCOMMAND:
            body = f'knit_run {main_class} {name} "$@"'
        else:
            body = f'knit_run {main_class} "$@"'
        arms.append(f"  {name}) {body} ;;")
    return "\n".join(arms)


def _launcher(tool: str, commands: dict[str, str | None]) -> str:
    names = " ".join(commands)
    return f"""#!/usr/bin/env bash
# `{tool}` of a knit local cluster: runs Hadoop's own CLI classes.
. "$(dirname "$(readlink -f "${{BASH_SOURCE[0]}}")")/../libexec/knit-hadoop-env.sh"
sub="${{1:-}}"
[ $# -gt 0 ] && shift
case "$sub" in
{_case_arms(commands)}
  *) echo "Usage: {tool} COMMAND [ARGS]; COMMAND is one of: {names}" >&2; exit 1 ;;
esac
"""


def _env_script(home: Path, conf_dir: Path) -> str:
    java_home = find_java_home()
    flags = " ".join(java_opens_flags() + LEAN_FLAGS)
    classpath = ":".join(["$HADOOP_CONF_DIR", *classpath_entries(home)])
    return f"""# Shared by bin/hadoop, bin/yarn and bin/hdfs of a knit local cluster.
export HADOOP_HOME={shlex.quote(str(home))}
export HADOOP_COMMON_HOME="$HADOOP_HOME" HADOOP_HDFS_HOME="$HADOOP_HOME" HADOOP_YARN_HOME="$HADOOP_HOME"
export HADOOP_CONF_DIR="${{HADOOP_CONF_DIR:-{conf_dir}}}"
export JAVA_HOME="${{JAVA_HOME:-{java_home}}}"
CLASSPATH="{classpath}${{HADOOP_CLASSPATH:+:$HADOOP_CLASSPATH}}"
KNIT_JAVA_OPTS="{flags} -Xmx${{HADOOP_HEAPSIZE_MAX:-512m}} -Dhadoop.home.dir=$HADOOP_HOME \\
  -Dhadoop.root.logger=${{HADOOP_ROOT_LOGGER:-INFO,console}} \\
  -Dlog4j.configuration=file:$HADOOP_CONF_DIR/log4j.properties \\
  ${{KRB5_CONFIG:+-Djava.security.krb5.conf=$KRB5_CONFIG}}"

knit_run() {{
  # shellcheck disable=SC2086
  exec "$JAVA_HOME/bin/java" $KNIT_JAVA_OPTS ${{HADOOP_OPTS:-}} ${{HADOOP_CLIENT_OPTS:-}} \\
    -cp "$CLASSPATH" "$@"
}}

knit_classpath() {{
  if [ $# -eq 0 ]; then echo "$CLASSPATH"; else knit_run org.apache.hadoop.util.Classpath "$@"; fi
}}
"""


def write_launchers(home: Path, conf_dir: Path) -> None:
    """Write ``bin/hadoop``, ``bin/yarn``, ``bin/hdfs`` and their shared env script."""
    (home / "libexec").mkdir(parents=True, exist_ok=True)
    (home / "libexec" / "knit-hadoop-env.sh").write_text(_env_script(home, conf_dir))
    (home / "bin").mkdir(parents=True, exist_ok=True)
    for tool, commands in (("hadoop", HADOOP_COMMANDS), ("hdfs", HDFS_COMMANDS), ("yarn", YARN_COMMANDS)):
        script = home / "bin" / tool
        script.write_text(_launcher(tool, commands))
        script.chmod(0o755)


#: Java sources the secure cluster's NodeManagers load before Hadoop's jars.
SHIM_SOURCES = Path(__file__).with_name("shims")


def shim_classes(home: Path) -> Path:
    """Where :func:`ensure_secure_shims` compiles the shims of ``home``."""
    return home / "share" / "hadoop" / "knit-secure-shims"


def ensure_secure_shims(home: Path) -> Path:
    """Compile (once per source version) the classes a Kerberized NodeManager needs
    that Maven Central lacks: see ``shims/SecureIOUtils.java`` (a pure-Java stand-in
    for the check Hadoop does with its native library). Returns the class folder.

    Raises
    ------
    ToolNotFoundError
        The Java runtime has no ``javac`` (a JDK is needed).
    """
    sources = sorted(SHIM_SOURCES.glob("*.java"))
    key = hashlib.sha256(b"".join(source.read_bytes() for source in sources)).hexdigest()
    target = shim_classes(home)
    marker = target / _MARKER
    if marker.is_file() and marker.read_text().strip() == key:
        return target
    javac = find_java_home() / "bin" / "javac"
    if not javac.is_file():
        raise ToolNotFoundError(f"{javac} not found: a secure local cluster compiles a class for "
                                "its NodeManagers and needs a JDK (`apt-get install "
                                "openjdk-17-jdk-headless`), not only a JRE")
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    classpath = ":".join(str(home / "share" / "hadoop" / sub / "*") for sub in SHARE_DIRS)
    result = subprocess.run([str(javac), "-nowarn", "-cp", classpath, "-d", str(target),
                             *map(str, sources)], capture_output=True, text=True, timeout=120,
                            check=False)
    if result.returncode != 0:
        raise ClusterError(f"compiling {', '.join(s.name for s in sources)} failed:\n"
                           f"{result.stderr.strip()[-1500:]}")
    marker.write_text(key + "\n")
    return target
