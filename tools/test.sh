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

install_system_packages() {
  local missing=() sudo_cmd=""
  command -v java >/dev/null || missing+=(openjdk-17-jdk-headless)
  command -v mvn >/dev/null || missing+=(maven)
  /usr/bin/python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3 python3-venv)
  command -v ip >/dev/null || missing+=(iproute2)
  command -v setpriv >/dev/null || missing+=(util-linux)
  # The secure cluster's KDC and tools, and what building python-gssapi needs.
  [ -x /usr/sbin/krb5kdc ] || missing+=(krb5-kdc)
  [ -x /usr/sbin/kadmin.local ] || missing+=(krb5-admin-server)
  command -v kinit >/dev/null || missing+=(krb5-user)
  command -v krb5-config >/dev/null || missing+=(libkrb5-dev)
  command -v gcc >/dev/null || missing+=(gcc)
  # A real browser for the ApplicationMaster's status page (tests/integration/test_status_page.py).
  command -v chromium >/dev/null || missing+=(chromium)
  /usr/bin/python3 -c 'import sysconfig, os, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' 2>/dev/null || missing+=(python3-dev)
  if [ "$(id -u)" -eq 0 ]; then
    command -v sudo >/dev/null || missing+=(sudo)
    command -v rsync >/dev/null || missing+=(rsync)
  else
    sudo_cmd="sudo"
  fi
  if [ ${#missing[@]} -gt 0 ]; then
    echo "test.sh: installing ${missing[*]} with apt-get" >&2
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}"
  fi
}

make_user() {
  id -u "$1" >/dev/null 2>&1 ||
    useradd --system --create-home --home-dir "/home/$1" --shell /bin/bash "$1"
  chown "$1:" "/home/$1"
  chmod 755 "/home/$1"  # as Debian makes homes: others may read the cluster's conf
}

# Root: prepare the machine, then hand over to the unprivileged test user.
if [ "$(id -u)" -eq 0 ]; then
  install_system_packages
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
  exec runuser -u "$TEST_USER" -- env -i HOME="/home/$TEST_USER" USER="$TEST_USER" \
    LOGNAME="$TEST_USER" PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 CI="${CI:-}" \
    KNIT_OTHER_USER="$OTHER_USER" bash "$tree/tools/test.sh" "$@"
fi

# An ordinary user from here on.
install_system_packages
python=/usr/bin/python3
[ -x "$python" ] || python=python3
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'

# The Scala unit tests (ApplicationMaster book-keeping), the documentation (Sphinx,
# warnings are errors), then the Python suite.
mvn -q -B test
.venv/bin/python -m sphinx -W --keep-going -q -b html -d .venv/doctrees docs docs/_build/html

export KNIT_TEST_CLUSTER_DIR="${KNIT_TEST_CLUSTER_DIR:-$PWD/.test-cluster}"
stop_clusters() {
  for dir in "$KNIT_TEST_CLUSTER_DIR" "$KNIT_TEST_CLUSTER_DIR-separated" "$KNIT_TEST_CLUSTER_DIR-secure"; do
    [ -e "$dir/cluster.json" ] && .venv/bin/knit cluster down --dir "$dir" || true
  done
}
trap stop_clusters EXIT
.venv/bin/python -m pytest -ra "$@"
