#!/usr/bin/env bash
# Run knit's whole test suite from nothing: system tools (apt), Python packages (pip,
# in .venv), Hadoop jars (Maven Central, cached in ~/.m2), then pytest against a real
# local YARN + HDFS cluster that the suite starts once and stops at the end.
# Extra arguments go to pytest, e.g. `bash tools/test.sh tests/unit -x`.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v java >/dev/null || missing+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null || missing+=(maven)
command -v python3 >/dev/null || missing+=(python3 python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
  echo "test.sh: installing ${missing[*]} with apt-get" >&2
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}"
fi

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'

# The Scala unit tests (ApplicationMaster book-keeping), then the Python suite.
mvn -q -B test

export KNIT_TEST_CLUSTER_DIR="${KNIT_TEST_CLUSTER_DIR:-$PWD/.test-cluster}"
stop_cluster() { .venv/bin/knit cluster down --dir "$KNIT_TEST_CLUSTER_DIR" || true; }
trap stop_cluster EXIT
.venv/bin/python -m pytest -ra "$@"
