# shellcheck shell=bash
# Find a JDK >= 21 for Chorus. Sourceable on its own:
#
#   source infra/lib/java.sh
#   JAVA_HOME="$(chorus_java_home)" && export JAVA_HOME PATH="$JAVA_HOME/bin:$PATH"
#   # or simply: chorus_java_env   (does the export, fails if none is found)
#
# Search order: $JAVA_HOME, the `java` on PATH, then the newest JDK under
# /usr/lib/jvm. Only full JDKs (with javac) count.

[[ -n "${_CHORUS_JAVA_SH:-}" ]] && return 0
_CHORUS_JAVA_SH=1

# JVM flags of the worker and the api-server (stack.sh, the benchmark, the fault suite), before
# CHORUS_JAVA_OPTS / BENCH_JAVA_OPTS. A concurrent collector: with G1 (the default on 2 CPUs),
# young pauses on this busy 2-core machine took 40-120 ms at p50 and up to 800 ms (GC threads
# waiting for a CPU), and each one stopped every live stream for that long. Set it empty for the
# JVM's default.
CHORUS_APP_JVM_FLAGS="${CHORUS_APP_JVM_FLAGS--XX:+UseZGC}"

# Major version of a java binary ("17.0.15" -> 17, "1.8.0_402" -> 8, "25-ea" -> 25).
chorus_java_major() {
  local bin=$1 v
  v=$("$bin" -version 2>&1 | awk -F'"' '/version/ { print $2; exit }') || return 1
  [[ -n $v ]] || return 1
  [[ $v == 1.* ]] && v=${v#1.}
  v=${v%%[.+_-]*}
  [[ $v =~ ^[0-9]+$ ]] || return 1
  printf '%s\n' "$v"
}

# Print the JAVA_HOME of a JDK with major version >= ${1:-21}; return 1 if none.
chorus_java_home() {
  local min=${1:-21} cand home major best="" best_major=0
  local -a cands=()
  [[ -n ${JAVA_HOME:-} ]] && cands+=("$JAVA_HOME")
  if command -v java >/dev/null 2>&1; then
    cand=$(readlink -f "$(command -v java)") && cands+=("${cand%/bin/java}")
  fi
  # First acceptable of JAVA_HOME / PATH wins (the user's choice), else newest in /usr/lib/jvm.
  for home in "${cands[@]}"; do
    [[ -x $home/bin/java && -x $home/bin/javac ]] || continue
    major=$(chorus_java_major "$home/bin/java") || continue
    if ((major >= min)); then
      printf '%s\n' "$home"
      return 0
    fi
  done
  for cand in /usr/lib/jvm/*/; do
    home=$(readlink -f "${cand%/}") || continue
    [[ -x $home/bin/java && -x $home/bin/javac ]] || continue
    major=$(chorus_java_major "$home/bin/java") || continue
    if ((major >= min && major > best_major)); then
      best=$home
      best_major=$major
    fi
  done
  [[ -n $best ]] || return 1
  printf '%s\n' "$best"
}

# Export JAVA_HOME and PATH for a JDK >= ${1:-21}; fail with a clear message if none.
chorus_java_env() {
  local min=${1:-21} home
  if ! home=$(chorus_java_home "$min"); then
    printf '[chorus] ERROR: no JDK >= %s found (checked JAVA_HOME, java on PATH, /usr/lib/jvm/*). Run: infra/stack.sh install\n' "$min" >&2
    return 1
  fi
  export JAVA_HOME=$home
  # Put it first on PATH (unless it already is) so `java`/`mvn` use this JDK.
  case "$PATH" in
    "$JAVA_HOME/bin:"*) ;;
    *) export PATH="$JAVA_HOME/bin:$PATH" ;;
  esac
}
