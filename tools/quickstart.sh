#!/usr/bin/env bash
# Install knit into .venv and run a command in 3 YARN containers, printing each
# container's output. With no Hadoop configuration around, `knit run` starts the local
# YARN + HDFS cluster first (it stays up: stop it with `.venv/bin/knit cluster down`).
# Usage: bash tools/quickstart.sh ['shell command']
set -euo pipefail
cd "$(dirname "$0")/.."
command_to_run="${1:-echo hello from \$(hostname) in \$CONTAINER_ID}"

python3 -m venv .venv
.venv/bin/python -m pip install -q -e .
.venv/bin/knit run --num-containers 3 "$command_to_run"
