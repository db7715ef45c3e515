"""Build hooks: the knit jar is built with Maven and shipped inside the package.

``pip install .`` / ``pip install -e .`` build it when the Java sources are
newer than the jar; ``python setup.py install mvn`` (the knit docs' spelling)
forces a rebuild.
"""

import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
FORCE = "mvn" in sys.argv
if FORCE:
    sys.argv.remove("mvn")


def jar_is_stale() -> bool:
    jars = list((ROOT / "knit" / "java_libs").glob("knit-*.jar"))
    if not jars:
        return True
    built = min(jar.stat().st_mtime for jar in jars)
    sources = [ROOT / "pom.xml", *(ROOT / "java_src").rglob("*.scala")]
    return any(source.stat().st_mtime > built for source in sources)


class BuildWithJar(build_py):
    """build_py that first builds the knit jar with Maven (if needed)."""

    def run(self):
        if (ROOT / "java_src").is_dir() and (FORCE or jar_is_stale()):
            sys.path.insert(0, str(ROOT))
            from knit.maven import build_knit_jar  # stdlib-only module, safe at build time

            print(f"knit: built {build_knit_jar()}")
        super().run()


setup(cmdclass={"build_py": BuildWithJar})
