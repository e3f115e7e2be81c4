#!/usr/bin/env bash
# Start or stop a throwaway PostgreSQL cluster for tests and benchmarks.
#
#   scripts/pg.sh start DIR   # prints postgres://… as the last line of stdout
#   scripts/pg.sh stop DIR
#   scripts/pg.sh url DIR     # prints the URL of a running cluster
#
# The cluster lives in DIR (data in DIR/data, socket and log in DIR), listens
# on 127.0.0.1 on a free port, trusts local connections (user postgres, no
# password) and has a database named "digitoll". It runs with fsync off for
# speed; set PG_DURABLE=1 to keep fsync on (for durable benchmark figures).
# Both commands are idempotent: start on a running cluster prints its URL,
# stop on a stopped (or never started) one does nothing.
#
# Uses the machine's initdb/pg_ctl from /usr/lib/postgresql/*/bin. When there
# are none and we are root, installs Debian's postgresql package. initdb
# refuses to run as root, so as root the cluster runs as user "postgres".
set -euo pipefail

die() { echo "pg.sh: $*" >&2; exit 1; }
say() { echo "pg.sh: $*" >&2; }

cmd=${1:-}
dir=${2:-}
[[ -n $cmd && -n $dir ]] || die "usage: $0 start|stop|url DIR"

find_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [[ -n $d && -x $d/initdb && -x $d/pg_ctl ]]; then
    echo "$d"
  fi
}

bin=$(find_bin)
if [[ -z $bin && $cmd == start ]]; then
  if [[ $(id -u) -eq 0 ]]; then
    say "no PostgreSQL found; installing Debian's postgresql package"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
    bin=$(find_bin)
  fi
  [[ -n $bin ]] || die "no initdb/pg_ctl under /usr/lib/postgresql/*/bin; install PostgreSQL (apt-get install postgresql) or run as root to let this script do it"
fi

# Run a command as the cluster's owner.
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

data=$dir/data
port_file=$dir/port

url() {
  echo "postgres://postgres@127.0.0.1:$(cat "$port_file")/digitoll"
}

running() {
  [[ -n $bin && -f $data/postmaster.pid ]] && as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1
}

free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 30000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  die "no free TCP port found on 127.0.0.1"
}

case $cmd in
start)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  data=$dir/data
  port_file=$dir/port
  if running; then
    url
    exit 0
  fi
  if [[ $(id -u) -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    chown postgres: "$dir"
  fi
  if [[ ! -f $data/PG_VERSION ]]; then
    as_owner "$bin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || as_owner "$bin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; die "initdb failed (log above)"; }
  fi
  fsync=off
  [[ ${PG_DURABLE:-0} == 1 ]] && fsync=on
  started=0
  for _ in 1 2 3; do
    port=$(free_port)
    opts="-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='$dir' -c max_connections=300 -c fsync=$fsync -c full_page_writes=$fsync -c shared_buffers=128MB"
    [[ $fsync == off ]] && opts="$opts -c synchronous_commit=off"
    if as_owner "$bin/pg_ctl" -D "$data" -l "$dir/postgres.log" -w -t 30 -o "$opts" start >/dev/null 2>&1; then
      echo "$port" >"$port_file"
      started=1
      break
    fi
    say "start on port $port failed; retrying"
  done
  if [[ $started != 1 ]]; then
    tail -20 "$dir/postgres.log" >&2 || true
    die "could not start PostgreSQL in $dir (log above)"
  fi
  if ! as_owner "$bin/psql" -h "$dir" -p "$port" -U postgres -d postgres -tAc "select 1 from pg_database where datname = 'digitoll'" | grep -q 1; then
    as_owner "$bin/createdb" -h "$dir" -p "$port" -U postgres digitoll
  fi
  say "PostgreSQL $("$bin/postgres" -V | awk '{print $3}') running in $dir (fsync=$fsync)"
  url
  ;;
stop)
  if [[ -d $dir ]]; then
    dir=$(cd "$dir" && pwd)
    data=$dir/data
    if running; then
      as_owner "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null
      say "stopped PostgreSQL in $dir"
    fi
  fi
  ;;
url)
  running || die "no cluster running in $dir"
  url
  ;;
*)
  die "unknown command '$cmd' (start, stop or url)"
  ;;
esac
