"""Facts about the Java side that every part of knit needs: where Java is, the flags
every knit JVM runs with, and where knit's own jar is installed.

Standard library only: ``setup.py`` imports :mod:`knit.maven`, which imports this.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from .exceptions import ToolNotFoundError

#: The installed package's folder, and the folder of knit's jar (and pom) in it.
PACKAGE_DIR = Path(__file__).resolve().parent
JAVA_LIBS = PACKAGE_DIR / "java_libs"

#: Packages Hadoop reaches into reflectively; Hadoop's own launcher scripts open
#: them on Java 17, and so must every JVM we start without those scripts.
ADD_OPENS = [
    "java.base/java.io",
    "java.base/java.lang",
    "java.base/java.lang.reflect",
    "java.base/java.math",
    "java.base/java.net",
    "java.base/java.nio",
    "java.base/java.text",
    "java.base/java.util",
    "java.base/java.util.concurrent",
    "java.base/java.util.zip",
    "java.base/sun.nio.ch",
    "java.base/sun.security.util",
    "java.base/sun.security.x509",
    "java.security.jgss/sun.security.krb5",  # Hadoop's Kerberos name rules read the realm
]

#: Start-up-friendly flags for short-lived or lightly loaded JVMs on small machines.
LEAN_FLAGS = ["-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto"]

_INSTALL_HINT = (
    "install a JDK 11 or newer (Debian/Ubuntu: `apt-get install openjdk-17-jdk-headless`, "
    "conda: `conda install -c conda-forge openjdk`) or point JAVA_HOME at one"
)


def java_opens_flags() -> list[str]:
    """The ``--add-opens`` flags (and the guard for old JVMs) Hadoop needs on Java 17."""
    flags = ["-XX:+IgnoreUnrecognizedVMOptions"]
    flags += [f"--add-opens={package}=ALL-UNNAMED" for package in ADD_OPENS]
    return flags


def find_java_home() -> Path:
    """Locate the Java installation knit should use.

    ``JAVA_HOME`` wins when set; otherwise the ``java`` on ``PATH`` is followed
    through its symlinks to its home.

    Returns
    -------
    Path
        A directory with ``bin/java`` inside.

    Raises
    ------
    ToolNotFoundError
        If ``JAVA_HOME`` points nowhere useful or no ``java`` is on ``PATH``.
    """
    env_home = os.environ.get("JAVA_HOME")
    if env_home:
        home = Path(env_home)
        if (home / "bin" / "java").is_file():
            return home
        raise ToolNotFoundError(
            f"JAVA_HOME={env_home} has no bin/java: fix JAVA_HOME or {_INSTALL_HINT}"
        )
    on_path = shutil.which("java")
    if on_path is None:
        raise ToolNotFoundError(f"no `java` found on PATH: {_INSTALL_HINT}")
    return Path(on_path).resolve().parent.parent


def java_executable() -> str:
    """Path of the ``java`` binary of :func:`find_java_home`."""
    return str(find_java_home() / "bin" / "java")


def java_version(java: str | None = None) -> str:
    """The version string ``java -version`` reports, e.g. ``17.0.15``."""
    java = java or java_executable()
    result = subprocess.run(
        [java, "-version"], capture_output=True, text=True, timeout=60, check=False
    )
    for line in result.stderr.splitlines():
        if "version" in line and '"' in line:
            return line.split('"')[1]
    return "unknown"


def kerberos_flags() -> list[str]:
    """``-Djava.security.krb5.conf`` from ``KRB5_CONFIG`` when that is set."""
    krb5 = os.environ.get("KRB5_CONFIG")
    return [f"-Djava.security.krb5.conf={krb5}"] if krb5 else []


def installed_jar(folder: Path = JAVA_LIBS) -> Path | None:
    """The knit jar in ``folder`` (what :func:`knit.maven.build_knit_jar` put there), or None."""
    jars = sorted(Path(folder).glob("knit-*.jar"))
    return jars[-1] if jars else None
