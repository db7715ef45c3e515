#!/usr/bin/env bash
# Install knit into .venv and run a command in 3 YARN containers, printing each
# container's output. With no Hadoop configuration around, `knit run` starts the local
# YARN + HDFS cluster first (it stays up: stop it with `.venv/bin/knit cluster down`).
# What the machine lacks of a JDK, Maven and python3-venv is installed first with
# apt-get (Debian/Ubuntu; as root, or through sudo).
# Usage: bash tools/quickstart.sh ['shell command']
set -euo pipefail
cd "$(dirname "$0")/.."
command_to_run="${1:-echo hello from \$(hostname) in \$CONTAINER_ID}"

# shellcheck source=tools/system-packages.sh
source tools/system-packages.sh
if ! command -v apt-get >/dev/null; then
  command -v java >/dev/null && command -v mvn >/dev/null ||
    { echo "quickstart: needs a JDK 17 and Maven (and Python's venv); install them first" >&2; exit 1; }
else
  install_system_packages quickstart
fi
if [ "$(id -u)" -eq 0 ]; then
  echo "quickstart: warning: run as root, the local cluster runs every user's containers as root;" \
       "run it as an ordinary user on a shared machine (docs/local_cluster.rst)" >&2
fi

python=/usr/bin/python3
[ -x "$python" ] || python=python3
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install -q -e .
.venv/bin/knit run --num-containers 3 "$command_to_run"
