#!/usr/bin/env bash
# Start/stop a local Apache Kafka broker (KRaft, single node) and a FerretDB
# (MongoDB wire protocol, SQLite backend) for the test suite.
#
#   tools/servers.sh start   # fetch (cached) + start both, wait until ready
#   tools/servers.sh stop    # stop both, remove their data dirs
#   tools/servers.sh stop-kafka | start-kafka   # stop / restart only the broker, keeping its data
#
# The replicated cluster (three combined broker+controller KRaft nodes, for the cluster fault rows and the soak):
#   tools/servers.sh start-cluster | stop-cluster   # the three nodes only, fresh data each start
#   tools/servers.sh kill-node N.. | stop-node N.. | start-node N..   # SIGKILL / TERM / restart nodes (1..3), data kept
#   tools/servers.sh cluster-bootstrap [proxied]   # prints host:port,host:port,host:port (proxied: the
#                                        # addresses a TCP proxy on 127.0.0.3 must serve; see PROXIED below)
#   tools/servers.sh start-mongo | stop-mongo   # the MongoDB-wire server alone (to pair with the cluster)
#
# Env: KAFKA_PORT (default 19092; controller uses KAFKA_PORT+1),
#      CLUSTER_PORT (default KAFKA_PORT+2; node N listens on CLUSTER_PORT+2(N-1), its controller one above),
#      MONGO_PORT (default 27018), KAFKA_HEAP (default -Xms128m -Xmx512m per JVM).
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
CLUSTER_PORT="${CLUSTER_PORT:-$((KAFKA_PORT + 2))}"
CLUSTER_NODES=3
# small heaps: the machine is shared and the cluster runs three JVMs
KAFKA_HEAP="${KAFKA_HEAP:--Xms128m -Xmx512m}"
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
    setsid nohup java $KAFKA_HEAP -cp "$KAFKA_LIBS/*" kafka.Kafka "$props" >>"$logf" 2>&1 </dev/null &
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

# ---------------------------------------------------------------- the three-node cluster

node_port() { echo $((CLUSTER_PORT + 2 * ($1 - 1))); }
node_controller_port() { echo $(($(node_port "$1") + 1)); }

cluster_bootstrap() {  # cluster_bootstrap [proxied]
    local n out="" host=127.0.0.1
    [[ "${1:-}" == proxied ]] && host=$PROXIED_ADVERTISED
    for ((n = 1; n <= CLUSTER_NODES; n++)); do out+="${out:+,}$host:$(node_port "$n")"; done
    echo "$out"
}

node_ready_port=""
node_ready() {  # the node answers metadata on its own listener
    if have_venv && "$PY" -c 'import kafka' 2>/dev/null; then
        timeout 20 "$PY" - "127.0.0.1:$node_ready_port" >/dev/null 2>&1 <<'EOF'
import sys
from kafka import KafkaAdminClient
c = KafkaAdminClient(bootstrap_servers=sys.argv[1], request_timeout_ms=5000)
try:
    c.list_topics()
finally:
    c.close()
EOF
    else
        port_open "$node_ready_port"
    fi
}

# PROXIED: a second listener for clients that must reach the cluster through a TCP proxy the
# test controls (the network-cut row). Kafka hands clients the addresses of the listener they
# came in on, so the node listens on the IPv6 loopback and advertises 127.0.0.3, where the proxy
# listens: the same port numbers (Kafka allows one port twice only across IPv4 and IPv6), so the
# cluster needs no ports beyond its six. Clients on 127.0.0.1 never see it.
PROXIED_BIND="[::1]"
PROXIED_ADVERTISED=127.0.0.3

# Every node knows all three: a quorum of controllers (2 of 3) keeps metadata moving when one dies.
# Replication 3 with min ISR 2 for the topics and for the group offsets: acks=all needs two copies.
write_node_props() {
    local n=$1 voters="" m
    for ((m = 1; m <= CLUSTER_NODES; m++)); do voters+="${voters:+,}$m@127.0.0.1:$(node_controller_port "$m")"; done
    cat >"$RUN/cluster/node$n/server.properties" <<EOF
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$(node_port "$n"),CONTROLLER://127.0.0.1:$(node_controller_port "$n"),PROXIED://$PROXIED_BIND:$(node_port "$n")
advertised.listeners=PLAINTEXT://127.0.0.1:$(node_port "$n"),PROXIED://$PROXIED_ADVERTISED:$(node_port "$n")
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,PROXIED:PLAINTEXT
log.dirs=$RUN/cluster/node$n/data
num.partitions=3
default.replication.factor=3
min.insync.replicas=2
offsets.topic.replication.factor=3
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
unclean.leader.election.enable=false
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
# a dead node is fenced, and its partitions led elsewhere, within seconds rather than 9-18 s
broker.session.timeout.ms=6000
broker.heartbeat.interval.ms=1000
replica.lag.time.max.ms=10000
num.network.threads=2
num.io.threads=2
num.replica.fetchers=1
background.threads=2
log.cleaner.enable=false
EOF
}

start_cluster() {
    local n uuid cp="$KAFKA_LIBS/*" logf="$RUN/cluster/format.log"
    rm -rf "$RUN/cluster"
    mkdir -p "$RUN/cluster"
    uuid="$(java -cp "$cp" kafka.tools.StorageTool random-uuid 2>>"$logf" | tail -n 1)"
    [[ -n "$uuid" ]] || die "kafka StorageTool random-uuid failed (log: $logf)"
    for ((n = 1; n <= CLUSTER_NODES; n++)); do
        mkdir -p "$RUN/cluster/node$n/data"
        write_node_props "$n"
        if ! java -cp "$cp" kafka.tools.StorageTool format -t "$uuid" \
            -c "$RUN/cluster/node$n/server.properties" >>"$logf" 2>&1; then
            tail -n 30 "$logf" >&2
            die "kafka storage format of node $n failed (log: $logf)"
        fi
    done
    for ((n = 1; n <= CLUSTER_NODES; n++)); do launch_node "$n"; done
}

launch_node() {
    local n=$1 props="$RUN/cluster/node$1/server.properties"
    [[ -f "$props" ]] || die "no data dir for node $n under $RUN/cluster: run '$0 start-cluster' first"
    # its own session: a restart from inside a test must outlive the caller's process group
    setsid nohup java $KAFKA_HEAP -cp "$KAFKA_LIBS/*" kafka.Kafka "$props" >>"$RUN/node$n.log" 2>&1 </dev/null &
    echo $! >"$RUN/node$n.pid"
}

check_node() {
    [[ "${1:-}" =~ ^[1-3]$ ]] || { echo "usage: $0 kill-node|stop-node|start-node 1|2|3" >&2; exit 2; }
}

wait_node() {
    node_ready_port="$(node_port "$1")"
    wait_ready "node$1" "${2:-120}" node_ready
}

cmd_start_cluster() {
    mkdir -p "$RUN"
    cmd_stop_cluster
    local n port
    for ((n = 1; n <= CLUSTER_NODES; n++)); do
        for port in "$(node_port "$n")" "$(node_controller_port "$n")"; do
            port_open "$port" && die "port $port on 127.0.0.1 is already in use (CLUSTER_PORT=$CLUSTER_PORT..+5)"
        done
        : >"$RUN/node$n.log"
    done
    fetch_kafka
    start_cluster
    for ((n = 1; n <= CLUSTER_NODES; n++)); do
        if ! wait_node "$n" 150; then
            cmd_stop_cluster
            die "Kafka node $n failed to start on 127.0.0.1:$(node_port "$n")"
        fi
    done
    echo "kafka cluster ready at $(cluster_bootstrap)"
}

cmd_stop_cluster() {
    mkdir -p "$RUN"
    local n
    for ((n = 1; n <= CLUSTER_NODES; n++)); do stop_pidfile "node$n"; done
    rm -rf "$RUN/cluster"
}

cmd_kill_node() {  # SIGKILL: no controlled shutdown, no leadership handed over
    check_node "${1:-}"
    local pid i
    pid="$(cat "$RUN/node$1.pid" 2>/dev/null || true)"
    if pid_alive "$pid"; then
        kill -KILL "$pid"
        for ((i = 0; i < 100; i++)); do pid_alive "$pid" || break; sleep 0.1; done
    fi
    rm -f "$RUN/node$1.pid"
}

cmd_stop_node() {  # TERM: a controlled shutdown moves leadership away first
    check_node "${1:-}"
    stop_pidfile "node$1"
}

cmd_start_node() {  # start-node N [N...]: launch them all, then wait for each (a quorum needs two)
    [[ $# -gt 0 ]] || check_node ""
    local n i
    for n in "$@"; do
        check_node "$n"
        if pid_alive "$(cat "$RUN/node$n.pid" 2>/dev/null || true)"; then
            log "node $n already running"
            continue
        fi
        for ((i = 0; i < 100; i++)); do
            port_open "$(node_port "$n")" || port_open "$(node_controller_port "$n")" || break
            sleep 0.1
        done
        launch_node "$n"
    done
    for n in "$@"; do
        wait_node "$n" 120 || die "Kafka node $n failed to restart on 127.0.0.1:$(node_port "$n")"
        echo "kafka node $n ready at 127.0.0.1:$(node_port "$n")"
    done
}

# start-mongo / stop-mongo: the MongoDB-wire server alone (make faults and make soak pair it with the cluster).
cmd_start_mongo() {
    mkdir -p "$RUN"
    stop_pidfile ferretdb
    stop_pidfile secantus
    port_open "$MONGO_PORT" && die "port $MONGO_PORT on 127.0.0.1 is already in use (MONGO_PORT)"
    [[ "$MONGO_WIRE" == ferretdb ]] && fetch_ferretdb
    "start_$MONGO_WIRE"
    wait_ready "$MONGO_WIRE" 30 mongo_ready || die "$MONGO_WIRE failed to start on 127.0.0.1:$MONGO_PORT"
    echo "mongodb-wire ($MONGO_WIRE) ready at mongodb://127.0.0.1:$MONGO_PORT"
}

cmd_stop_mongo() {
    mkdir -p "$RUN"
    stop_pidfile ferretdb
    stop_pidfile secantus
    rm -rf "$RUN/ferretdb" "$RUN/secantus"
}

case "${1:-}" in
start) cmd_start ;;
stop) cmd_stop ;;
stop-kafka) cmd_stop_kafka ;;
start-kafka) cmd_start_kafka ;;
start-cluster) cmd_start_cluster ;;
stop-cluster) cmd_stop_cluster ;;
kill-node) shift; for n in "$@"; do cmd_kill_node "$n"; done ;;
stop-node) shift; for n in "$@"; do cmd_stop_node "$n"; done ;;
start-node) shift; cmd_start_node "$@" ;;
cluster-bootstrap) cluster_bootstrap "${2:-}" ;;
start-mongo) cmd_start_mongo ;;
stop-mongo) cmd_stop_mongo ;;
*)
    echo "usage: $0 start|stop|stop-kafka|start-kafka|start-cluster|stop-cluster|kill-node N|stop-node N|start-node N|cluster-bootstrap|start-mongo|stop-mongo" >&2
    exit 2
    ;;
esac
