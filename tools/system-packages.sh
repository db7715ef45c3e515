# Sourced by tools/quickstart.sh and tools/test.sh: install, with apt-get, the Debian
# packages a profile needs that this machine lacks (through sudo when not root).
#   install_system_packages quickstart   JDK, Maven, python3-venv
#   install_system_packages test         those, plus what the test suite uses
install_system_packages() {
  local profile="$1" missing=() sudo_cmd=""
  command -v java >/dev/null || missing+=(openjdk-17-jdk-headless)
  command -v mvn >/dev/null || missing+=(maven)
  /usr/bin/python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3 python3-venv)
  if [ "$profile" = test ]; then
    command -v ip >/dev/null || missing+=(iproute2)
    command -v setpriv >/dev/null || missing+=(util-linux)
    command -v openssl >/dev/null || missing+=(openssl)
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
    fi
  fi
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  if [ ${#missing[@]} -gt 0 ]; then
    echo "knit: installing ${missing[*]} with apt-get" >&2
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}"
  fi
}

# The variables a company network needs, kept when a script re-runs itself as another
# user under `env -i`: the trust store, proxies, package mirrors (docs/install.rst).
KNIT_KEPT_VARIABLES=(
  SSL_CERT_FILE SSL_CERT_DIR REQUESTS_CA_BUNDLE CURL_CA_BUNDLE
  https_proxy HTTPS_PROXY http_proxy HTTP_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY
  PIP_CERT PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_TRUSTED_HOST PIP_FIND_LINKS
  PIP_DEFAULT_TIMEOUT PIP_DISABLE_PIP_VERSION_CHECK
  KNIT_MAVEN_MIRROR MAVEN_OPTS MAVEN_ARGS
)

# Prints NAME=VALUE for each kept variable that is set, one per line.
kept_environment() {
  local name
  for name in "${KNIT_KEPT_VARIABLES[@]}"; do
    [ -n "${!name+x}" ] && printf '%s=%s\n' "$name" "${!name}"
  done
  return 0
}
