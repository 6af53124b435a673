#!/usr/bin/env bash
# The production topology on this machine, on loopback: Temporal's own
# server (built from the go.temporal.io/server version go.mod pins) on
# PostgreSQL, `breachflow migrate`, one `breachflow server`, an `incidents`
# worker and two `notices` workers, the app store on PostgreSQL. See
# docs/deploy.md ("A local cluster").
#
#   deploy/cluster.sh start [--fresh]   build, create the databases, start everything
#   deploy/cluster.sh stop              SIGTERM every process (newest first), then SIGKILL
#   deploy/cluster.sh status            each process: running or not, its pid and log
#   deploy/cluster.sh start-one NAME    start one process again (temporal, server, incidents, notices-1, …)
#   deploy/cluster.sh stop-one NAME     SIGTERM one process and wait for it
#   deploy/cluster.sh drop              drop the three databases (after stop)
#   deploy/cluster.sh describe          each process and its command line (TestComposeMatchesCluster reads it)
#   deploy/cluster.sh env               print the variables the processes run with
#   deploy/cluster.sh bench [N]         notices/s with one notices worker, then with two
#   deploy/cluster.sh roll [BINARY]     roll workers, then the API, onto a new build of breachflow
#                                       (BINARY, else the tree's), after its replay of every open workflow passes
#
# Settings (environment; defaults in brackets):
#   CLUSTER_RUN_DIR      pids, logs, generated secrets [<repo>/.cluster]
#   CLUSTER_BIN_DIR      the built binaries [~/.cache/breachflow-cluster]
#   CLUSTER_PG_HOST / _PORT / _USER / _PASSWORD   the PostgreSQL server [127.0.0.1 / 5432 / postgres / none]
#   CLUSTER_DB_PREFIX    databases <prefix>_temporal, _visibility, _app [breachflow_cluster]
#   CLUSTER_TEMPORAL_PORT  Temporal frontend gRPC; the 8 ports above it too [7233]
#   CLUSTER_HTTP_ADDR    breachflow's API [127.0.0.1:8080]
#   CLUSTER_SMTP_ADDR    where `breachflow mailcatcher` listens [127.0.0.1:1025];
#                        set BREACHFLOW_SMTP_ADDR to send to another sink instead
#   CLUSTER_NOTICE_WORKERS  how many notices workers start [2]
#   CLUSTER_WORKER_CPUS  confine each notices worker to this many CPUs (e.g. 0.25)
#                        in a cgroup of its own, as if each ran on a small host of
#                        its own: what `bench` needs to show scale-out on one machine [unset]
# Any BREACHFLOW_* variable set when `start` runs is passed to every process;
# the keys and the admin token are generated into the run dir once otherwise.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
run=${CLUSTER_RUN_DIR:-$repo/.cluster}
bin=${CLUSTER_BIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/breachflow-cluster}
pg_host=${CLUSTER_PG_HOST:-127.0.0.1}
pg_port=${CLUSTER_PG_PORT:-5432}
pg_user=${CLUSTER_PG_USER:-postgres}
pg_password=${CLUSTER_PG_PASSWORD:-}
prefix=${CLUSTER_DB_PREFIX:-breachflow_cluster}
temporal_port=${CLUSTER_TEMPORAL_PORT:-7233}
http_addr=${CLUSTER_HTTP_ADDR:-127.0.0.1:8080}
smtp_addr=${CLUSTER_SMTP_ADDR:-127.0.0.1:1025}
notice_workers=${CLUSTER_NOTICE_WORKERS:-2}

export GOTOOLCHAIN=local

# The breachflow build the processes run; roll starts the new one's.
breachflow=$bin/breachflow

say() { printf 'cluster: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# The processes, in start order; stop goes the other way.
processes() {
  [ -z "${BREACHFLOW_SMTP_ADDR:-}" ] && echo mailcatcher
  echo temporal server incidents
  for i in $(seq 1 "$notice_workers"); do echo "notices-$i"; done
}

# command NAME prints the command line of one process.
command_of() {
  case "$1" in
    mailcatcher) echo "$breachflow mailcatcher --addr $smtp_addr" ;;
    temporal) echo "$bin/temporal-server --config-file $repo/deploy/temporal/config.yaml --allow-no-auth start" ;;
    server) echo "env BREACHFLOW_HTTP_ADDR=$http_addr $breachflow server" ;;
    incidents) echo "env BREACHFLOW_WORKER_QUEUES=incidents $breachflow worker" ;;
    notices-*) echo "env BREACHFLOW_WORKER_QUEUES=notices $breachflow worker" ;;
    *) die "no process named $1 (one of: $(processes | tr '\n' ' '))" ;;
  esac
}

pg_url() { # pg_url DB
  local auth=$pg_user
  [ -n "$pg_password" ] && auth="$pg_user:$pg_password"
  echo "postgres://$auth@$pg_host:$pg_port/$1?sslmode=disable"
}

build() {
  mkdir -p "$bin"
  say "building temporal-server, temporal-sql-tool and breachflow into $bin"
  (cd "$repo" &&
    go build -o "$bin/temporal-server" go.temporal.io/server/cmd/server &&
    go build -o "$bin/temporal-sql-tool" go.temporal.io/server/cmd/tools/sql &&
    go build -o "$bin/breachflow" ./cmd/breachflow)
}

sqltool() {
  "$bin/temporal-sql-tool" --plugin postgres12 --ep "$pg_host" -p "$pg_port" -u "$pg_user" \
    ${pg_password:+--pw "$pg_password"} "$@"
}

# databases [--fresh]: Temporal's persistence and visibility schemas, each
# in its own database, and breachflow's empty database.
databases() {
  local schemas db out
  schemas=$(cd "$repo" && go list -m -f '{{.Dir}}' go.temporal.io/server)/schema/postgresql/v12
  [ -d "$schemas" ] || die "no Temporal schemas at $schemas"
  for db in "${prefix}_temporal" "${prefix}_visibility" "${prefix}_app"; do
    if [ "${1:-}" = --fresh ]; then
      sqltool --db "$db" drop-database --force >/dev/null 2>&1 || true
    fi
    if out=$(sqltool --db "$db" create-database 2>&1); then
      say "created database $db"
      case "$db" in
        *_temporal | *_visibility) sqltool --db "$db" setup-schema -v 0.0 >>"$run/schema.log" 2>&1 ||
          { tail -n 5 "$run/schema.log" >&2; die "setup schema of $db failed"; } ;;
      esac
    elif ! grep -q "already exists" <<<"$out"; then
      die "create database $db: $out"
    fi
  done
  for db in temporal visibility; do
    sqltool --db "${prefix}_$db" update-schema -d "$schemas/$db/versioned" >>"$run/schema.log" 2>&1 ||
      { tail -n 5 "$run/schema.log" >&2; die "update schema of ${prefix}_$db failed"; }
  done
  say "Temporal schemas are up to date in ${prefix}_temporal and ${prefix}_visibility"
}

# secrets: the keys every process shares, generated once per run dir
# unless the caller set them.
secrets() {
  local f=$run/secrets.env
  if [ ! -f "$f" ]; then
    umask 077
    {
      echo "BREACHFLOW_ENCRYPTION_KEYS=${BREACHFLOW_ENCRYPTION_KEYS:-k1:$(openssl rand -base64 32)}"
      echo "BREACHFLOW_ACTOR_KEY=${BREACHFLOW_ACTOR_KEY:-$(openssl rand -base64 32)}"
      echo "BREACHFLOW_AUDIT_KEYS=${BREACHFLOW_AUDIT_KEYS:-a1:$(openssl rand -base64 32)}"
      echo "BREACHFLOW_HMAC_KEY=${BREACHFLOW_HMAC_KEY:-$(openssl rand -base64 32)}"
      echo "BREACHFLOW_ADMIN_TOKEN=${BREACHFLOW_ADMIN_TOKEN:-$(openssl rand -hex 24)}"
    } >"$f"
  fi
}

# environment writes the variables every process runs with: the caller's
# BREACHFLOW_* settings, then the cluster's own.
environment() {
  secrets
  {
    env | grep '^BREACHFLOW_' | grep -v -e '^BREACHFLOW_WORKER_QUEUES=' -e '^BREACHFLOW_HTTP_ADDR=' || true
    cat "$run/secrets.env"
    echo "BREACHFLOW_TEMPORAL_ADDRESS=127.0.0.1:$temporal_port"
    echo "BREACHFLOW_TEMPORAL_NAMESPACE=${BREACHFLOW_TEMPORAL_NAMESPACE:-default}"
    echo "BREACHFLOW_DATABASE_URL=$(pg_url "${prefix}_app")"
    echo "BREACHFLOW_SMTP_ADDR=${BREACHFLOW_SMTP_ADDR:-$smtp_addr}"
    echo "BREACHFLOW_SMTP_TLS=${BREACHFLOW_SMTP_TLS:-none}"
    # The sink is on loopback; a real relay needs starttls or tls.
    echo "BREACHFLOW_SMTP_INSECURE=${BREACHFLOW_SMTP_INSECURE:-true}"
    echo "BREACHFLOW_NOTIFY=${BREACHFLOW_NOTIFY:-legal=legal@example.com,responder=soc@example.com,admin=security@example.com}"
    echo "BREACHFLOW_PUBLIC_URL=${BREACHFLOW_PUBLIC_URL:-http://$http_addr}"
    echo "TEMPORAL_PORT=$temporal_port"
    echo "TEMPORAL_DB=${prefix}_temporal"
    echo "TEMPORAL_VISIBILITY_DB=${prefix}_visibility"
    echo "TEMPORAL_DYNAMIC_CONFIG=$repo/deploy/temporal-dynamicconfig.yaml"
    echo "CLUSTER_PG_HOST=$pg_host"
    echo "CLUSTER_PG_PORT=$pg_port"
    echo "CLUSTER_PG_USER=$pg_user"
    echo "CLUSTER_PG_PASSWORD=$pg_password"
  } | awk -F= '!seen[$1]++' >"$run/cluster.env" # the first of a name wins: the caller's
}

running() { [ -f "$run/$1.pid" ] && kill -0 "$(cat "$run/$1.pid")" 2>/dev/null; }

# with_env CMD…: runs CMD with the cluster's variables.
with_env() { (set -a && . "$run/cluster.env" && set +a && exec "$@"); }

start_one() {
  local name=$1
  running "$name" && { say "$name is already running (pid $(cat "$run/$name.pid"))"; return 0; }
  spawn "$name" "$run/$name.pid"
  say "$name running (pid $(cat "$run/$name.pid"), log $run/$name.log)"
}

# spawn NAME PIDFILE: starts NAME's process from $breachflow, its output
# appended to its log and its pid written to PIDFILE, and waits until it
# serves.
spawn() {
  local name=$1 from
  touch "$run/$name.log"
  from=$(stat -c %s "$run/$name.log")
  # shellcheck disable=SC2046 # the command line is split on purpose
  (set -a && . "$run/cluster.env" && set +a && exec $(command_of "$name")) >>"$run/$name.log" 2>&1 </dev/null &
  echo $! >"$2"
  confine "$name" "$(cat "$2")"
  wait_ready "$name" "$(cat "$2")" "$from"
}

# confine NAME PID: with CLUSTER_WORKER_CPUS set, a notices worker runs in
# a cgroup of its own whose CPU quota is that many CPUs (cgroup v2's
# cpu.max, else v1's cpu controller), so one machine can show whether
# sending scales out when the workers, not the machine, are the limit. Go
# reads the quota into GOMAXPROCS.
confine() {
  local name=$1 pid=$2 cpus quota dir
  # start remembers the setting, so start-one and roll confine alike.
  cpus=${CLUSTER_WORKER_CPUS-$(cat "$run/worker-cpus" 2>/dev/null || true)}
  [ -n "$cpus" ] || return 0
  case "$name" in notices-*) ;; *) return 0 ;; esac
  quota=$(awk -v c="$cpus" 'BEGIN { if (c + 0 <= 0) exit 1; printf "%d", c * 100000 }') ||
    die "CLUSTER_WORKER_CPUS=$cpus: want a number of CPUs above 0, such as 0.25"
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    dir=/sys/fs/cgroup/breachflow-$name
    { mkdir -p "$dir" && echo "$quota 100000" >"$dir/cpu.max" && echo "$pid" >"$dir/cgroup.procs"; } 2>/dev/null
  else
    dir=/sys/fs/cgroup/cpu/breachflow-$name
    { mkdir -p "$dir" && echo 100000 >"$dir/cpu.cfs_period_us" && echo "$quota" >"$dir/cpu.cfs_quota_us" &&
      echo "$pid" >"$dir/cgroup.procs"; } 2>/dev/null
  fi || { kill -KILL "$pid" 2>/dev/null; die "CLUSTER_WORKER_CPUS: cannot confine $name to $cpus CPUs in $dir (needs a writable cgroup cpu controller; run as root)"; }
  say "$name confined to $cpus CPUs ($dir)"
}

# wait_ready NAME PID FROM: until the process serves (judged by what it
# logged after byte FROM of its log), or fail with its log's tail.
wait_ready() {
  local name=$1 pid=$2 from=$3 i
  for i in $(seq 1 240); do
    kill -0 "$pid" 2>/dev/null || { tail -n 20 "$run/$name.log" >&2; die "$name exited"; }
    case "$name" in
      mailcatcher) tail -c +$((from + 1)) "$run/$name.log" | grep -q "mailcatcher listening" && return 0 ;;
      temporal) with_env "$breachflow" namespace --wait 2m >>"$run/namespace.log" 2>&1 && return 0 ;;
      server) curl -fsS -o /dev/null "http://$http_addr/readyz" 2>/dev/null && return 0 ;;
      *) tail -c +$((from + 1)) "$run/$name.log" | grep -q "breachflow worker running" && return 0 ;;
    esac
    sleep 0.5
  done
  tail -n 20 "$run/$name.log" >&2
  die "$name did not become ready in 2 minutes"
}

stop_one() {
  local name=$1
  running "$name" || { rm -f "$run/$name.pid"; return 0; }
  stop_pid "$name" "$(cat "$run/$name.pid")"
  rm -f "$run/$name.pid"
  say "$name stopped"
}

# stop_pid NAME PID: SIGTERM, then SIGKILL if it has not stopped in 45 s.
stop_pid() {
  local name=$1 pid=$2 i
  kill -TERM "$pid" 2>/dev/null || true
  # Running activities get BREACHFLOW_WORKER_STOP_TIMEOUT (30s) to finish.
  for i in $(seq 1 90); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "$name did not stop in 45s; SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
}

start() {
  mkdir -p "$run"
  if [ -n "${CLUSTER_WORKER_CPUS:-}" ]; then echo "$CLUSTER_WORKER_CPUS" >"$run/worker-cpus"; else rm -f "$run/worker-cpus"; fi
  build
  databases "${1:-}"
  environment
  with_env "$bin/breachflow" migrate
  local name
  for name in $(processes); do start_one "$name"; done
  say "up: API http://$http_addr (admin token in $run/secrets.env), Temporal 127.0.0.1:$temporal_port, mail to $(with_env sh -c 'echo $BREACHFLOW_SMTP_ADDR')"
}

stop() {
  local name f
  # A roll cut short leaves its new processes under NAME.next.
  for f in "$run"/*.next.pid "$run"/notices-*.pid; do
    [ -e "$f" ] && stop_one "$(basename "$f" .pid)"
  done
  for name in incidents server temporal mailcatcher; do stop_one "$name"; done
}

drop() {
  local db
  local i
  for db in "${prefix}_temporal" "${prefix}_visibility" "${prefix}_app"; do
    # A process just stopped may hold a connection for a moment more.
    for i in 1 2 3 4 5 6 7 8 9 10; do
      if sqltool --db "$db" drop-database --force >/dev/null 2>&1; then
        say "dropped database $db"
        break
      fi
      [ "$i" = 10 ] && say "could not drop database $db"
      sleep 1
    done
  done
  return 0
}

status() {
  local name state
  for name in $(processes); do
    state=stopped
    running "$name" && state="running pid $(cat "$run/$name.pid")"
    printf '%-12s %-20s %s\n' "$name" "$state" "$run/$name.log"
  done
}

# bench [N]: the cluster's notices/s with one notices worker, then with
# two (the ratio shows whether sending scales out); see docs/deploy.md.
bench() {
  local n=${1:-20000}
  with_env "$bin/breachflow" bench cluster --subjects "$n" --api "http://$http_addr" \
    --stop "$0 stop-one notices-2" --start "$0 start-one notices-2"
}

# roll [BINARY]: the running cluster onto a new build of breachflow, in
# the order docs/deploy.md ("Rolling a new build") gives: the new build
# replays every open workflow first, and nothing is rolled unless all
# replay; then each worker, its successor started beside it before it is
# stopped with SIGTERM (its running activities drain); then the API
# server. The build it replaces is kept as breachflow.prev.
roll() {
  local new=${1:-} name old
  if [ -z "$new" ]; then
    new=$bin/breachflow.next
    say "building breachflow into $new"
    (cd "$repo" && go build -o "$new" ./cmd/breachflow)
  fi
  [ -x "$new" ] || die "roll: no breachflow binary at $new"
  new=$(cd "$(dirname "$new")" && pwd)/$(basename "$new")
  say "replaying every open workflow against $new"
  if ! with_env "$new" replay --open >"$run/replay.log" 2>&1; then
    cat "$run/replay.log" >&2
    die "roll: the new build does not replay every open workflow (above); nothing was rolled"
  fi
  say "$(tail -n 1 "$run/replay.log")"
  for name in $(processes); do
    case "$name" in incidents | notices-*) ;; *) continue ;; esac
    running "$name" || { say "$name is not running; not rolled"; continue; }
    old=$(cat "$run/$name.pid")
    breachflow=$new spawn "$name" "$run/$name.next.pid"
    say "$name on the new build (pid $(cat "$run/$name.next.pid")); stopping the old one (pid $old), which drains its activities"
    stop_pid "$name" "$old"
    mv -f "$run/$name.next.pid" "$run/$name.pid"
  done
  cp "$new" "$bin/breachflow.rolling"
  [ -f "$bin/breachflow" ] && mv -f "$bin/breachflow" "$bin/breachflow.prev"
  mv -f "$bin/breachflow.rolling" "$bin/breachflow"
  stop_one server
  start_one server
  say "rolled onto $new; the build before is $bin/breachflow.prev"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) stop ;;
  status) status ;;
  start-one) [ $# -eq 2 ] || die "usage: $0 start-one NAME"; command_of "$2" >/dev/null; start_one "$2" ;;
  stop-one) [ $# -eq 2 ] || die "usage: $0 stop-one NAME"; command_of "$2" >/dev/null; stop_one "$2" ;;
  drop) drop ;;
  describe) for name in $(processes); do printf '%s\t%s\n' "$name" "$(command_of "$name")"; done ;;
  env) cat "$run/cluster.env" ;;
  bench) shift; bench "$@" ;;
  roll) shift; roll "$@" ;;
  *) die "usage: $0 start [--fresh] | stop | drop | status | start-one NAME | stop-one NAME | env | bench [N] | roll [BINARY]" ;;
esac
