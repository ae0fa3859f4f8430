#!/usr/bin/env bash
# Start/stop a local Apache Kafka broker (KRaft, single node) and a FerretDB
# (MongoDB wire protocol, SQLite backend) for the test suite.
#
#   tools/servers.sh start   # fetch (cached) + start both, wait until ready
#   tools/servers.sh stop    # stop both, remove their data dirs
#   tools/servers.sh stop-kafka | start-kafka   # stop / restart only the broker, keeping its data
#
# Env: KAFKA_PORT (default 19092; controller uses KAFKA_PORT+1),
#      MONGO_PORT (default 27018).
# Artifacts are cached in .cache/ at the repo root; run state lives in .cache/run/.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="$ROOT/.cache"
RUN="$CACHE/run"

KAFKA_VERSION=4.1.1
LOG4J_VERSION=2.24.3
FERRETDB_VERSION=v1.24.2

KAFKA_PORT="${KAFKA_PORT:-19092}"
CONTROLLER_PORT=$((KAFKA_PORT + 1))
MONGO_PORT="${MONGO_PORT:-27018}"
MONGO_WIRE="${MONGO_WIRE:-secantus}"   # secantus | ferretdb
case "$MONGO_WIRE" in secantus|ferretdb) ;; *) echo "servers.sh: MONGO_WIRE must be secantus or ferretdb" >&2; exit 2 ;; esac

KAFKA_LIBS="$CACHE/kafka/libs"
FERRETDB_BIN="$CACHE/bin/ferretdb"
PY="$ROOT/.venv/bin/python"

log() { echo "servers.sh: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- helpers

pid_alive() { [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null; }

# stop_pidfile NAME: TERM the process from $RUN/NAME.pid, KILL after 10 s.
stop_pidfile() {
    local name=$1 pidfile="$RUN/$1.pid" pid i
    [[ -f "$pidfile" ]] || return 0
    pid="$(cat "$pidfile" 2>/dev/null || true)"
    if pid_alive "$pid"; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do
            pid_alive "$pid" || break
            sleep 0.1
        done
        if pid_alive "$pid"; then
            log "$name (pid $pid) did not stop after 10 s, sending KILL"
            kill -KILL "$pid" 2>/dev/null || true
            for ((i = 0; i < 50; i++)); do
                pid_alive "$pid" || break
                sleep 0.1
            done
        fi
    fi
    rm -f "$pidfile"
}

port_open() {  # port_open PORT
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

have_venv() { [[ -x "$PY" ]]; }

# ---------------------------------------------------------------- fetch

fetch_kafka() {
    if compgen -G "$KAFKA_LIBS/kafka_2.13-$KAFKA_VERSION.jar" >/dev/null; then
        return 0
    fi
    command -v java >/dev/null || die "java not found"
    command -v mvn >/dev/null || die "mvn not found (needed to fetch Kafka from Maven Central)"
    log "fetching Kafka $KAFKA_VERSION from Maven Central (first time, ~1 min)"
    local dir="$CACHE/kafka"
    mkdir -p "$dir"
    rm -rf "$KAFKA_LIBS.tmp"
    cat >"$dir/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local</groupId><artifactId>kafka-fetch</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>$LOG4J_VERSION</version></dependency>
  </dependencies>
</project>
EOF
    if ! (cd "$dir" && mvn -q -B dependency:copy-dependencies -DoutputDirectory="$KAFKA_LIBS.tmp") \
        >"$dir/mvn.log" 2>&1; then
        tail -n 30 "$dir/mvn.log" >&2
        die "maven fetch of Kafka failed (log: $dir/mvn.log)"
    fi
    rm -rf "$KAFKA_LIBS"
    mv "$KAFKA_LIBS.tmp" "$KAFKA_LIBS"
}

fetch_ferretdb() {
    [[ -x "$FERRETDB_BIN" ]] && return 0
    command -v go >/dev/null || die "go not found (needed to build FerretDB)"
    log "building FerretDB $FERRETDB_VERSION from the Go module proxy (first time, ~1-2 min)"
    local src="$CACHE/ferretdb-src" buildlog="$CACHE/ferretdb-build.log" moddir
    mkdir -p "$CACHE/bin"
    if ! moddir="$(cd "$CACHE" && go mod download -json \
        "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" 2>"$buildlog" |
        sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')" || [[ -z "$moddir" ]]; then
        cat "$buildlog" >&2
        die "go mod download of FerretDB failed"
    fi
    rm -rf "$src"
    cp -r "$moddir" "$src"
    chmod -R u+w "$src"
    # The module ships an empty version.txt; the binary panics without it.
    printf '%s\n' "$FERRETDB_VERSION" >"$src/build/version/version.txt"
    if ! (cd "$src" && go build -o "$FERRETDB_BIN.tmp" ./cmd/ferretdb) >>"$buildlog" 2>&1; then
        tail -n 30 "$buildlog" >&2
        die "go build of FerretDB failed (log: $buildlog)"
    fi
    mv "$FERRETDB_BIN.tmp" "$FERRETDB_BIN"
}

# ---------------------------------------------------------------- start

start_kafka() {
    local dir="$RUN/kafka" props="$RUN/kafka/server.properties" logf="$RUN/kafka.log"
    local cp="$KAFKA_LIBS/*" uuid
    rm -rf "$dir"
    mkdir -p "$dir/data"
    : >"$logf"
    cat >"$props" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/data
num.partitions=3
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
EOF
    uuid="$(java -cp "$cp" kafka.tools.StorageTool random-uuid 2>>"$logf" | tail -n 1)"
    [[ -n "$uuid" ]] || die "kafka StorageTool random-uuid failed (log: $logf)"
    if ! java -cp "$cp" kafka.tools.StorageTool format -t "$uuid" -c "$props" >>"$logf" 2>&1; then
        tail -n 30 "$logf" >&2
        die "kafka storage format failed (log: $logf)"
    fi
    launch_kafka
}

# launch_kafka: run the broker on the already formatted data dir (start, and start-kafka after stop-kafka).
launch_kafka() {
    local props="$RUN/kafka/server.properties" logf="$RUN/kafka.log"
    [[ -f "$props" ]] || die "no Kafka data dir under $RUN/kafka: run '$0 start' first"
    # its own session: a restart from inside a test must outlive the caller's process group
    setsid nohup java -Xmx512m -cp "$KAFKA_LIBS/*" kafka.Kafka "$props" >>"$logf" 2>&1 </dev/null &
    echo $! >"$RUN/kafka.pid"
}

# SecantusDB (a MongoDB-wire server on WiredTiger, from PyPI) is the default: FerretDB's
# SQLite backend stalled here under concurrent bulk upserts ("sql: database is closed").
start_secantus() {
    local dir="$RUN/secantus" logf="$RUN/secantus.log"
    rm -rf "$dir"
    mkdir -p "$dir"
    [[ -x "$ROOT/.venv/bin/secantusd-py" ]] || die "secantusd-py missing: install the test extras (make install)"
    nohup "$ROOT/.venv/bin/secantusd-py" --host 127.0.0.1 --port "$MONGO_PORT" \
        --storage-path "$dir" --log-level WARNING >"$logf" 2>&1 </dev/null &
    echo $! >"$RUN/secantus.pid"
}

start_ferretdb() {
    local dir="$RUN/ferretdb" logf="$RUN/ferretdb.log"
    rm -rf "$dir"
    mkdir -p "$dir/data" "$dir/state"
    nohup "$FERRETDB_BIN" \
        --handler=sqlite \
        --sqlite-url="file:$dir/data/" \
        --state-dir="$dir/state" \
        --listen-addr="127.0.0.1:$MONGO_PORT" \
        --debug-addr=- \
        --telemetry=disable \
        --log-level=WARN \
        >"$logf" 2>&1 </dev/null &
    echo $! >"$RUN/ferretdb.pid"
}

# wait_ready NAME TIMEOUT CHECK-FUNCTION
wait_ready() {
    local name=$1 timeout=$2 check=$3 deadline pid
    deadline=$((SECONDS + timeout))
    while ((SECONDS < deadline)); do
        pid="$(cat "$RUN/$name.pid" 2>/dev/null || true)"
        if ! pid_alive "$pid"; then
            log "$name exited during startup; last log lines:"
            tail -n 40 "$RUN/$name.log" >&2 || true
            return 1
        fi
        if "$check"; then
            return 0
        fi
        sleep 0.5
    done
    log "$name not ready after ${timeout}s; last log lines:"
    tail -n 40 "$RUN/$name.log" >&2 || true
    return 1
}

kafka_ready() {
    if have_venv && "$PY" -c 'import kafka' 2>/dev/null; then
        timeout 20 "$PY" - "127.0.0.1:$KAFKA_PORT" >/dev/null 2>&1 <<'EOF'
import sys
from kafka import KafkaAdminClient
c = KafkaAdminClient(bootstrap_servers=sys.argv[1], request_timeout_ms=5000)
try:
    c.list_topics()
finally:
    c.close()
EOF
    else
        port_open "$KAFKA_PORT"
    fi
}

mongo_ready() {
    if have_venv && "$PY" -c 'import pymongo' 2>/dev/null; then
        timeout 10 "$PY" - "mongodb://127.0.0.1:$MONGO_PORT" >/dev/null 2>&1 <<'EOF'
import sys
from pymongo import MongoClient
c = MongoClient(sys.argv[1], serverSelectionTimeoutMS=2000)
try:
    c.admin.command("ping")
finally:
    c.close()
EOF
    else
        port_open "$MONGO_PORT"
    fi
}

cmd_stop() {
    mkdir -p "$RUN"
    stop_pidfile kafka
    stop_pidfile ferretdb
    stop_pidfile secantus
    rm -rf "$RUN/kafka" "$RUN/ferretdb" "$RUN/secantus"
}

cmd_start() {
    mkdir -p "$RUN"
    cmd_stop
    local port
    for port in "$KAFKA_PORT" "$CONTROLLER_PORT" "$MONGO_PORT"; do
        port_open "$port" && die "port $port on 127.0.0.1 is already in use (KAFKA_PORT=$KAFKA_PORT, KAFKA_PORT+1, MONGO_PORT=$MONGO_PORT)"
    done
    fetch_kafka
    [[ "$MONGO_WIRE" == ferretdb ]] && fetch_ferretdb
    start_kafka
    "start_$MONGO_WIRE"
    if ! wait_ready "$MONGO_WIRE" 30 mongo_ready; then
        cmd_stop
        die "$MONGO_WIRE failed to start on 127.0.0.1:$MONGO_PORT"
    fi
    if ! wait_ready kafka 90 kafka_ready; then
        cmd_stop
        die "Kafka failed to start on 127.0.0.1:$KAFKA_PORT"
    fi
    echo "kafka ready at 127.0.0.1:$KAFKA_PORT"
    echo "mongodb-wire ($MONGO_WIRE) ready at mongodb://127.0.0.1:$MONGO_PORT"
}

# stop-kafka / start-kafka: take the broker away and bring it back with its data (fault tests).
cmd_stop_kafka() {
    mkdir -p "$RUN"
    stop_pidfile kafka
}

cmd_start_kafka() {
    mkdir -p "$RUN"
    if pid_alive "$(cat "$RUN/kafka.pid" 2>/dev/null || true)"; then
        log "kafka already running"
    else
        local i
        for ((i = 0; i < 100; i++)); do  # the old listener may linger a moment after stop
            port_open "$KAFKA_PORT" || port_open "$CONTROLLER_PORT" || break
            sleep 0.1
        done
        launch_kafka
    fi
    wait_ready kafka 90 kafka_ready || die "Kafka failed to restart on 127.0.0.1:$KAFKA_PORT"
    echo "kafka ready at 127.0.0.1:$KAFKA_PORT"
}

case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop ;;
stop-kafka) cmd_stop_kafka ;;
start-kafka) cmd_start_kafka ;;
*)
    echo "usage: $0 start|stop|stop-kafka|start-kafka" >&2
    exit 2
    ;;
esac
