"""Running Maven: building the knit jar (at install time, from a source tree).

The project has one ``pom.xml``; its ``hadoop.version`` is the Hadoop the knit
jar compiles against and the Hadoop ``knit cluster up`` runs. An installed knit
carries a copy of that pom in ``knit/java_libs/``. Users never need Maven: the
Hadoop jars come from the pinned jar set (:mod:`knit.jarset`).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
from pathlib import Path

from .exceptions import MavenError, ToolNotFoundError
from .java import JAVA_LIBS, PACKAGE_DIR, find_java_home, installed_jar  # noqa: F401 (re-exported)

logger = logging.getLogger(__name__)

SOURCE_POM = PACKAGE_DIR.parent / "pom.xml"


def project_pom() -> Path:
    """The knit pom: the source tree's, else the copy installed with the package."""
    for candidate in (SOURCE_POM, JAVA_LIBS / "pom.xml"):
        if candidate.is_file():
            return candidate
    raise ToolNotFoundError(
        f"knit's pom.xml is neither at {SOURCE_POM} nor at {JAVA_LIBS / 'pom.xml'}: "
        "reinstall knit (`pip install knit`) so its Java build files come with it"
    )


def hadoop_version(pom: Path | None = None) -> str:
    """The ``hadoop.version`` property of the pom."""
    text = (pom or project_pom()).read_text()
    match = re.search(r"<hadoop\.version>([^<]+)</hadoop\.version>", text)
    if match is None:
        raise MavenError(f"{pom} defines no <hadoop.version>", [], "")
    return match.group(1).strip()


def find_maven() -> str:
    """Path of the ``mvn`` executable.

    Raises
    ------
    ToolNotFoundError
        With how to install Maven.
    """
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ToolNotFoundError(
            "no `mvn` found on PATH: building knit's jar from source (or updating its "
            "pinned Hadoop jar list) needs Maven; install knit's wheel instead, or install Maven (Debian/Ubuntu: `apt-get install maven`, "
            "conda: `conda install -c conda-forge maven`)"
        )
    return mvn


def run_maven(args: list[str], pom: Path | None = None, timeout: float = 1800) -> str:
    """Run Maven in batch mode on the knit pom and return what it printed.

    Raises
    ------
    MavenError
        If Maven fails; the message carries the lines Maven marked as errors.
    """
    pom = pom or project_pom()
    command = [find_maven(), "-B", "-q", "-f", str(pom), *args]
    env = dict(os.environ, JAVA_HOME=str(find_java_home()))
    logger.info("running %s", " ".join(command))
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, env=env, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise MavenError(
            f"Maven did not finish within {timeout:.0f} s: {' '.join(command)}",
            command,
            str(exc.output or ""),
        ) from exc
    output = result.stdout + result.stderr
    if result.returncode != 0:
        errors = [line for line in output.splitlines() if "ERROR" in line][:5]
        summary = "; ".join(line.replace("[ERROR]", "").strip() for line in errors)
        raise MavenError(
            f"Maven failed (exit {result.returncode}): {summary or output[-500:]} -- "
            "check that Maven Central is reachable (or the jars are in ~/.m2) and "
            f"that hadoop.version in {pom} exists",
            command,
            output[-5000:],
        )
    return output


def build_knit_jar(dest: Path = JAVA_LIBS) -> Path:
    """Build the knit jar with Maven and copy it, with the pom, into ``dest``."""
    pom = project_pom()
    run_maven(["package", "-DskipTests"], pom=pom)
    jars = sorted((pom.parent / "target").glob("knit-*.jar"))
    if not jars:
        raise MavenError("Maven succeeded but built no target/knit-*.jar", [], "")
    dest.mkdir(parents=True, exist_ok=True)
    for old in dest.glob("knit-*.jar"):
        old.unlink()
    jar = dest / jars[-1].name
    shutil.copy2(jars[-1], jar)
    if dest.resolve() != pom.parent.resolve():
        shutil.copy2(pom, dest / "pom.xml")
    return jar
