"""The pinned Hadoop jar set: fetched from a Maven repository over HTTPS, no Maven.

The client JVM (where no ``hadoop`` command is installed) and ``knit cluster up``
need Hadoop's jars. knit pins them in ``java_libs/hadoop-jars.lock``: one line per
jar with its coordinates, size and SHA-256, written from ``pom.xml`` by a maintainer
(``python -m knit.jarset``, which runs Maven) and shipped with the package.

Users need no Maven: each jar is taken from ``~/.m2/repository`` when Maven already
has it, else from knit's cache (``~/.cache/knit/jars``), else downloaded from the
repository (Maven Central, or the mirror in ``$KNIT_MAVEN_MIRROR``), checked against
its SHA-256 and only then moved into the cache, so an interrupted or corrupt
download never leaves a file behind.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from . import sessions
from .exceptions import JarDownloadError
from .utils import cache_folder

PACKAGE_DIR = Path(__file__).resolve().parent
LOCK_FILE = PACKAGE_DIR / "java_libs" / "hadoop-jars.lock"
MAVEN_CENTRAL = "https://repo.maven.apache.org/maven2"
#: Jars of the resolved closure that must not reach a Hadoop classpath: the shaded
#: client API duplicates the real Hadoop classes; Scala belongs to knit's jar.
EXCLUDED = re.compile(r"^(hadoop-client-api|hadoop-client-runtime|scala-library)$")
_CHUNK = 1 << 16


@dataclass(frozen=True)
class Jar:
    """One pinned jar: Maven coordinates, size in bytes and SHA-256."""

    group: str
    artifact: str
    version: str
    classifier: str
    size: int
    sha256: str

    @property
    def file_name(self) -> str:
        suffix = f"-{self.classifier}" if self.classifier else ""
        return f"{self.artifact}-{self.version}{suffix}.jar"

    @property
    def path(self) -> str:
        """Where the jar sits in a Maven repository (relative, ``/``-separated)."""
        return "/".join([*self.group.split("."), self.artifact, self.version, self.file_name])

    @property
    def coordinates(self) -> str:
        parts = [self.group, self.artifact, self.version] + ([self.classifier] if self.classifier else [])
        return ":".join(parts)

    def to_line(self) -> str:
        return f"{self.coordinates} {self.size} {self.sha256}"

    @classmethod
    def from_line(cls, line: str) -> "Jar":
        coordinates, size, sha256 = line.split()
        group, artifact, version, *classifier = coordinates.split(":")
        return cls(group, artifact, version, classifier[0] if classifier else "", int(size), sha256)


def read_lock(path: Path = LOCK_FILE) -> list[Jar]:
    """The jars pinned in a lock file (``#`` lines are comments)."""
    try:
        text = Path(path).read_text()
    except FileNotFoundError as exc:
        raise JarDownloadError(
            f"knit's jar list {path} is missing: reinstall knit, or in a source tree run "
            "`python -m knit.jarset` to write it from pom.xml") from exc
    lines = (line.strip() for line in text.splitlines())
    return [Jar.from_line(line) for line in lines if line and not line.startswith("#")]


def lock_key(path: Path = LOCK_FILE) -> str:
    """A digest of the lock file: changes whenever the pinned jar set does."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def cache_dir() -> Path:
    """knit's jar cache: ``$KNIT_JARS_DIR``, else ``$XDG_CACHE_HOME/knit/jars``
    (``~/.cache/knit/jars``)."""
    return cache_folder("jars", "KNIT_JARS_DIR")


def maven_local_repository() -> Path:
    """Maven's own local repository, ``~/.m2/repository``."""
    return Path.home() / ".m2" / "repository"


def repository_url(mirror: str | None = None) -> str:
    """Where missing jars come from: ``mirror``, else ``$KNIT_MAVEN_MIRROR``, else
    Maven Central."""
    return (mirror or os.environ.get("KNIT_MAVEN_MIRROR") or MAVEN_CENTRAL).rstrip("/")


def local_copy(jar: Jar, cache: Path) -> Path | None:
    """The jar in ``~/.m2`` or the cache, if there with its pinned size.

    Files are checked by size only: Maven verified its own, and knit's cache holds
    only files whose SHA-256 matched when they were downloaded.
    """
    for root in (maven_local_repository(), cache):
        candidate = root / jar.path
        try:
            if candidate.stat().st_size == jar.size:
                return candidate
        except OSError:
            continue
    return None


def hadoop_jars(
    progress: Callable[[str], None] | None = None,
    mirror: str | None = None,
    lock: Path = LOCK_FILE,
    timeout: float = 60.0,
) -> list[Path]:
    """Paths of every pinned Hadoop jar, downloading the missing ones first.

    Parameters
    ----------
    progress : callable, optional
        Receives one-line messages about downloads (nothing is said when every jar
        is already local). On a terminal or in Jupyter a progress bar is shown too.
    mirror : str, optional
        Base URL of a Maven repository to download from instead of Maven Central
        (default ``$KNIT_MAVEN_MIRROR``).
    lock : Path
        The lock file naming the jars.
    timeout : float
        Seconds without data from the repository before a download fails.

    Raises
    ------
    JarDownloadError
        A jar could not be downloaded (no network, HTTP error, cut short) or did
        not match its SHA-256; nothing of it is left in the cache.
    """
    jars = read_lock(lock)
    cache = cache_dir()
    found = {jar: local_copy(jar, cache) for jar in jars}
    missing = [jar for jar, path in found.items() if path is None]
    if missing:
        found.update(download(missing, cache, repository_url(mirror), progress, timeout))
    return [found[jar] for jar in jars]


def download(jars: list[Jar], cache: Path, base_url: str,
             progress: Callable[[str], None] | None = None,
             timeout: float = 60.0) -> dict[Jar, Path]:
    """Download ``jars`` from ``base_url`` into ``cache``, eight at a time."""
    from .progress import byte_bar

    say = progress or (lambda message: None)
    total = sum(jar.size for jar in jars)
    say(f"downloading {len(jars)} Hadoop jar(s), {total / 2**20:.0f} MB, from {base_url} "
        f"into {cache}")
    local = threading.local()
    with byte_bar(total, "Hadoop jars", enabled=progress is not None) as bar:
        def fetch(jar: Jar) -> tuple[Jar, Path]:
            if not hasattr(local, "session"):
                local.session = sessions.session()
            return jar, fetch_one(local.session, jar, cache, base_url, timeout, bar.add)

        with ThreadPoolExecutor(max_workers=8) as pool:
            fetched = dict(pool.map(fetch, jars))
    say(f"downloaded {len(jars)} Hadoop jar(s)")
    return fetched


def fetch_one(session, jar: Jar, cache: Path, base_url: str, timeout: float,
              advance: Callable[[int], object]) -> Path:
    """Download one jar into ``cache``, verified, and return its path."""
    import requests

    url = f"{base_url}/{jar.path}"
    target = cache / jar.path
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, part_name = tempfile.mkstemp(dir=target.parent, prefix=f".{jar.file_name}.",
                                         suffix=f".{secrets.token_hex(4)}.part")
    part = Path(part_name)
    digest, received = hashlib.sha256(), 0
    try:
        with os.fdopen(handle, "wb") as out:
            with session.get(url, stream=True, timeout=timeout) as reply:
                if reply.status_code != 200:
                    raise JarDownloadError(
                        f"{url} answered HTTP {reply.status_code}: check the repository URL"
                        f"{_mirror_hint()}")
                for chunk in reply.iter_content(_CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    advance(len(chunk))
        if received != jar.size:
            raise JarDownloadError(
                f"{url} ended after {received} of {jar.size} bytes: the download was cut "
                "short; run again to retry")
        if digest.hexdigest() != jar.sha256:
            raise JarDownloadError(
                f"{url} does not match the SHA-256 knit pins for {jar.coordinates} "
                f"(got {digest.hexdigest()}, want {jar.sha256}): the repository or a proxy "
                f"served another file; nothing was kept{_mirror_hint()}")
        os.chmod(part, 0o644)  # a public artifact: other users' Hadoop may load it
        os.replace(part, target)
        return target
    except requests.RequestException as exc:
        if sessions.is_tls_failure(exc):
            raise JarDownloadError(
                f"could not download {url}: "
                f"{sessions.tls_failure_message(url, session.trust.source)}") from exc
        raise JarDownloadError(
            f"could not download {url}: {_reason(exc)}{_mirror_hint()}") from exc
    finally:
        part.unlink(missing_ok=True)


def _reason(exc: Exception) -> str:
    text = str(exc)
    match = re.search(r"\[Errno -?\d+\] [^')\]]+|Read timed out|Connection refused", text)
    return match.group(0) if match else text[:200]


def _mirror_hint() -> str:
    return ("; without network access to Maven Central, set KNIT_MAVEN_MIRROR to your "
            "company's Maven mirror, or put the jars in ~/.m2 (`mvn -P local-cluster "
            "dependency:resolve` in knit's source tree)")


# ---------------------------------------------------------------- maintainer command
def lock_from_pom(pom: Path | None = None) -> list[Jar]:
    """The jar set Maven resolves for the pom's ``local-cluster`` profile, hashed."""
    from . import maven

    handle, name = tempfile.mkstemp(prefix="knit-deps-", suffix=".txt")
    os.close(handle)
    listing = Path(name)
    try:
        maven.run_maven(["-P", "local-cluster", "dependency:list", "-DincludeScope=runtime",
                         "-DoutputAbsoluteArtifactFilename=true",
                         f"-DoutputFile={listing}"], pom=pom)
        return sorted(_parse_listing(listing.read_text().splitlines()),
                      key=lambda jar: jar.coordinates)
    finally:
        listing.unlink(missing_ok=True)


def _parse_listing(lines: Iterable[str]) -> list[Jar]:
    """Jars from ``dependency:list`` lines ``group:artifact:jar[:classifier]:version:scope:path``."""
    jars = []
    for line in lines:
        fields = line.strip().split(" -- ")[0].split(":")
        if len(fields) < 6 or fields[2] != "jar":
            continue
        group, artifact, path = fields[0], fields[1], Path(fields[-1])
        classifier, version = (fields[3], fields[4]) if len(fields) == 7 else ("", fields[3])
        if EXCLUDED.match(artifact):
            continue
        data = path.read_bytes()
        jars.append(Jar(group, artifact, version, classifier, len(data),
                        hashlib.sha256(data).hexdigest()))
    return jars


def write_lock(jars: list[Jar], path: Path = LOCK_FILE) -> None:
    header = ("# Hadoop jars of knit's pom (profile local-cluster): coordinates, size, SHA-256.\n"
              "# Written by `python -m knit.jarset`; do not edit by hand.\n")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(header + "".join(jar.to_line() + "\n" for jar in jars))


def main(argv: list[str] | None = None) -> int:
    """``python -m knit.jarset [--check]``: write (or check) the lock from pom.xml."""
    argv = sys.argv[1:] if argv is None else argv
    resolved = lock_from_pom()
    if "--check" in argv:
        pinned = read_lock()
        if pinned != resolved:
            print(f"{LOCK_FILE} is out of date with pom.xml: run `python -m knit.jarset`",
                  file=sys.stderr)
            return 1
        print(f"{LOCK_FILE}: {len(pinned)} jars, in step with pom.xml")
        return 0
    write_lock(resolved)
    print(f"wrote {LOCK_FILE}: {len(resolved)} jars")
    return 0


if __name__ == "__main__":
    sys.exit(main())
