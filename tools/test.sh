#!/usr/bin/env bash
# Run knit's whole test suite from nothing, as an unprivileged user: system tools (apt),
# Python packages (pip, in .venv), Hadoop jars (Maven Central, cached in ~/.m2), then
# pytest against real local YARN + HDFS clusters that the suite starts and stops itself.
#
# Run by root, it installs the system packages, creates (once) the system users
# knit-test (who runs everything) and knit-other (the second user of the two-user
# tests), lets knit-test act as knit-other and run the network-namespace helper
# through sudo, copies this tree to ~knit-test/knit and runs itself there as knit-test.
# Run by anyone else, it runs the suite as that user (the two-user and
# separated-network tests then need the same sudo rights: see docs/local_cluster.rst).
# Extra arguments go to pytest, e.g. `bash tools/test.sh tests/unit -x`.
set -euo pipefail
cd "$(dirname "$0")/.."

TEST_USER="${KNIT_TEST_USER:-knit-test}"
OTHER_USER="${KNIT_OTHER_USER:-knit-other}"
HELPER=/usr/local/sbin/knit-netns

# shellcheck source=tools/system-packages.sh
source tools/system-packages.sh

make_user() {
  id -u "$1" >/dev/null 2>&1 ||
    useradd --system --create-home --home-dir "/home/$1" --shell /bin/bash "$1"
  chown "$1:" "/home/$1"
  chmod 755 "/home/$1"  # as Debian makes homes: others may read the cluster's conf
}

# Root: prepare the machine, then hand over to the unprivileged test user.
if [ "$(id -u)" -eq 0 ]; then
  install_system_packages test
  make_user "$TEST_USER"
  make_user "$OTHER_USER"
  install -m 755 -o root -g root knit/cluster/knit-netns "$HELPER"
  sudoers=$(mktemp)
  cat >"$sudoers" <<EOF
# knit's test suite (tools/test.sh): $TEST_USER acts as the second user of the
# two-user tests, and runs the separated-network cluster's namespace helper.
Defaults!$HELPER !use_pty
$TEST_USER ALL=($OTHER_USER) NOPASSWD: ALL
$TEST_USER ALL=(root) NOPASSWD: $HELPER
# The second user too, so the tests can check it cannot enter or remove the first's.
$OTHER_USER ALL=(root) NOPASSWD: $HELPER
EOF
  visudo -cqf "$sudoers"
  install -m 440 -o root -g root "$sudoers" /etc/sudoers.d/knit-test
  rm -f "$sudoers"
  tree="/home/$TEST_USER/knit"
  mkdir -p "$tree"
  rsync -a --delete --exclude=/.git --exclude=/.venv --exclude='/.test-cluster*' \
    --exclude=/target --exclude=__pycache__ --exclude='/knit/java_libs/*.jar' ./ "$tree/"
  chown -R "$TEST_USER:" "$tree"
  echo "test.sh: running the suite as $TEST_USER in $tree" >&2
  # A clean environment, but for the trust store, proxy and mirror settings a company
  # network needs (KNIT_KEPT_VARIABLES in tools/system-packages.sh).
  mapfile -t kept < <(kept_environment)
  exec runuser -u "$TEST_USER" -- env -i HOME="/home/$TEST_USER" USER="$TEST_USER" \
    LOGNAME="$TEST_USER" PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 CI="${CI:-}" \
    KNIT_OTHER_USER="$OTHER_USER" "${kept[@]}" bash "$tree/tools/test.sh" "$@"
fi

# An ordinary user from here on.
install_system_packages test
python=/usr/bin/python3
[ -x "$python" ] || python=python3
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
ls knit/java_libs/knit-*.jar >/dev/null 2>&1 ||
  { echo "test.sh: pip install -e . built no knit jar (see its warnings)" >&2; exit 1; }

# The Scala unit tests (ApplicationMaster book-keeping), the documentation (Sphinx,
# warnings are errors), then the Python suite.
mvn -q -B test
.venv/bin/python -m sphinx -W --keep-going -q -b html -d .venv/doctrees docs docs/_build/html

export KNIT_TEST_CLUSTER_DIR="${KNIT_TEST_CLUSTER_DIR:-$PWD/.test-cluster}"
stop_clusters() {
  for dir in "$KNIT_TEST_CLUSTER_DIR" "$KNIT_TEST_CLUSTER_DIR-separated" "$KNIT_TEST_CLUSTER_DIR-secure" \
             "$KNIT_TEST_CLUSTER_DIR-ha"; do
    [ -e "$dir/cluster.json" ] && .venv/bin/knit cluster down --dir "$dir" || true
  done
}
trap stop_clusters EXIT
.venv/bin/python -m pytest -ra --durations=25 "$@"
