"""A tiny conda channel made on the spot: real packages, indexed by py-rattler."""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import json
import time
from pathlib import Path


#: The prefix placeholder conda packages carry; installers replace it with the prefix.
PLACEHOLDER = "/opt/anaconda1anaconda2anaconda3"


def make_package(work: Path, channel: Path, name: str, version: str, script: str) -> None:
    """Build ``name-version-0.tar.bz2`` (noarch) holding the shell script ``bin/<name>``.

    If ``script`` contains :data:`PLACEHOLDER`, the file is declared as holding the
    prefix, so installers (and conda-pack's ``conda-unpack``) rewrite it.
    """
    from conda_package_handling import api

    source = work / f"{name}-{version}"
    (source / "info").mkdir(parents=True)
    (source / "bin").mkdir()
    body = f"#!/bin/sh\n{script}\n".encode()
    (source / "bin" / name).write_bytes(body)
    (source / "bin" / name).chmod(0o755)
    (source / "info" / "index.json").write_text(json.dumps({
        "name": name, "version": version, "build": "0", "build_number": 0, "depends": [],
        "subdir": "noarch", "noarch": "generic", "license": "BSD",
        "timestamp": int(time.time() * 1000)}))
    entry = {"_path": f"bin/{name}", "path_type": "hardlink",
             "sha256": hashlib.sha256(body).hexdigest(), "size_in_bytes": len(body)}
    if PLACEHOLDER in script:
        entry.update(prefix_placeholder=PLACEHOLDER, file_mode="text")
    (source / "info" / "paths.json").write_text(json.dumps({"paths_version": 1, "paths": [entry]}))
    (source / "info" / "files").write_text(f"bin/{name}\n")
    (channel / "noarch").mkdir(parents=True, exist_ok=True)
    api.create(str(source), None, f"{name}-{version}-0.tar.bz2", out_folder=str(channel / "noarch"))


def make_channel(work: Path) -> str:
    """A ``file://`` channel with the packages ``knit-hello`` (prints ``$CONDA_PREFIX``)
    and ``knit-where`` (prints the prefix it was installed in, written into the file)."""
    from rattler.index import index_fs

    channel = work / "channel"
    make_package(work, channel, "knit-hello", "1.0", 'echo "hello from knit-hello in $CONDA_PREFIX"')
    make_package(work, channel, "knit-where", "1.0", f'echo "knit-where installed in {PLACEHOLDER}"')
    result = index_fs(channel)
    if inspect.isawaitable(result):  # a coroutine in recent py-rattler
        asyncio.run(result)
    return f"file://{channel}"
