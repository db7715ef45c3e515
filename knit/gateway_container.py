"""The containers' side of a dask-gateway cluster on knit, and how its workers get
their names.

dask-gateway names each worker before YARN grants a container for it, and any
container of the ``dask.worker`` service may be the one granted first. So the names
go through the application's key-value store: the gateway marks a name *wanted*
(:func:`want`), a starting worker container takes one wanted name atomically
(:func:`claim`, owned by the container, so the entry goes when it ends), and the
gateway stopping a worker either withdraws a name no container took yet or learns
which container to stop (:func:`release`). A container that finds no wanted name
(its worker was stopped before it started) exits at once, successfully.

The secrets (Dask's TLS certificate and key, the gateway's API token) reach the
containers in one private file (localized from the user's HDFS records folder), never
in an environment variable: ``python -m knit.gateway_container scheduler|worker``
writes the TLS files and prints the shell lines its service's script evaluates.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path

#: The private file each dask container gets (see knit.gateway).
SECRETS_FILE = "dask-gateway.json"
#: Where the TLS credentials are written in the container (dask-gateway's names).
CERT_FILE, KEY_FILE = "dask.crt", "dask.pem"
#: The key-value store's entries: one per worker name, and the scheduler's address.
WORKER_PREFIX, SCHEDULER_KEY = "dask.gateway.worker.", "dask.gateway.scheduler"
#: The value of a name no container took yet, and of one withdrawn.
WANTED, WITHDRAWN = "wanted", "withdrawn"


def want(kv, name: str) -> None:
    """Mark worker ``name`` wanted: the next worker container to start takes it."""
    kv.put(WORKER_PREFIX + name, WANTED)


def claim(kv, container_id: str) -> str | None:
    """Take one wanted worker name for ``container_id`` (the entry then ends with the
    container); None if no name is wanted."""
    for key, value in kv.prefix(WORKER_PREFIX).items():
        if value == WANTED and kv.compare_and_set(key, WANTED, container_id, owner=container_id):
            return key[len(WORKER_PREFIX):]
    return None


def release(kv, name: str) -> str | None:
    """Stop wanting worker ``name``. Returns :data:`WITHDRAWN` if no container had
    taken it (none will: one ask is now surplus), the id of the container that did,
    or None if that container has ended (or the name was never wanted)."""
    key = WORKER_PREFIX + name
    if kv.compare_and_set(key, WANTED, WITHDRAWN):
        del kv[key]
        return WITHDRAWN
    return kv.get(key)


def workers(kv) -> dict[str, str]:
    """Each worker name known to the store, and its container id or :data:`WANTED`."""
    return {key[len(WORKER_PREFIX):]: value for key, value in kv.prefix(WORKER_PREFIX).items()}


def _write_tls(secrets: dict, folder: Path) -> None:
    for name, text in ((CERT_FILE, secrets["tls_cert"]), (KEY_FILE, secrets["tls_key"])):
        path = folder / name
        path.touch(mode=0o600)
        path.write_text(text)


def shell_lines(role: str, folder: Path = Path("."), environ: dict | None = None) -> str:
    """What ``role``'s script evaluates before starting Dask: the API token exported,
    and for a worker its name and scheduler's address (or a clean exit when no name
    is wanted)."""
    secrets = json.loads((folder / SECRETS_FILE).read_text())
    _write_tls(secrets, folder)
    lines = [f"export DASK_GATEWAY_API_TOKEN={shlex.quote(secrets['api_token'])}"]
    if role == "worker":
        from .application import current

        app = current(environ, folder)
        name = claim(app.kv, app.container.container_id)
        if name is None:
            return 'echo "knit: no Dask worker is wanted any more; this container ends"; exit 0\n'
        lines += [f"export DASK_GATEWAY_WORKER_NAME={shlex.quote(name)}",
                  f"export DASK_GATEWAY_SCHEDULER_ADDRESS={shlex.quote(app.kv[SCHEDULER_KEY])}"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args not in (["scheduler"], ["worker"]):
        print("usage: python -m knit.gateway_container scheduler|worker", file=sys.stderr)
        return 2
    sys.stdout.write(shell_lines(args[0], Path(os.getcwd())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
