#!/usr/bin/env bash
# THE test command (README, CI): make sure PostgreSQL, Redis and Temporal are up
# (infra/stack.sh services), then run `mvn verify` with a JDK >= 21.
#
#   infra/test.sh                       # everything
#   infra/test.sh -pl api-server -am    # extra arguments go to mvn
#
# Integration tests use: PostgreSQL 127.0.0.1:15432 db chorus_test (chorus/chorus),
# Redis 127.0.0.1:16379, Temporal 127.0.0.1:7233 namespace chorus-test, and
# $CHORUS_TEMPORAL_BIN (the temporal CLI).
# Two runs on one machine keep apart with CHORUS_TEST_DB (a database, created on demand),
# CHORUS_TEST_NAMESPACE (a Temporal namespace, created on demand) and CHORUS_TEST_REDIS_DB.
# With CI=true the services this checkout started are stopped again at the end
# (override with CHORUS_STOP_SERVICES_AFTER_TEST=0|1).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash infra/stack.sh services

eval "$(bash infra/stack.sh env)"
# shellcheck source=infra/lib/java.sh
source infra/lib/java.sh
chorus_java_env 21 || exit 1
export CHORUS_TEMPORAL_BIN

stop_after=${CHORUS_STOP_SERVICES_AFTER_TEST:-}
if [[ -z $stop_after ]]; then
  if [[ ${CI:-} == true ]]; then stop_after=1; else stop_after=0; fi
fi
if [[ $stop_after == 1 ]]; then
  trap 'bash "$ROOT/infra/stack.sh" down || true' EXIT
fi

echo "[chorus] JAVA_HOME=$JAVA_HOME; mvn -B verify $*" >&2
rc=0
mvn -B -ntp -Dstyle.color=never verify "$@" || rc=$?
exit "$rc"
