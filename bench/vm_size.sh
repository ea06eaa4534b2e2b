#!/usr/bin/env bash
# vm_size.sh — bytes per sample of VictoriaMetrics on the standard dataset
# (DESIGN.md §8), the baseline of the tsdb compression target (issue 5).
#
#   bench/vm_size.sh [OBJECTS [POINTS]]     (defaults: 10000 10080 = 100.8 M samples)
#
# Installs victoria-metrics from Debian if missing, starts it on 127.0.0.1
# with a temp dir, feeds it the dataset (bench/vmfeed), forces a flush and a
# merge, waits until the data directory stops changing, and prints its size
# without cache/ (data/ and indexdb/ separately). Everything it started is
# stopped and the temp dir removed on exit.
set -euo pipefail

OBJECTS=${1:-10000}
POINTS=${2:-10080}
PORT=${VM_PORT:-18428}
ROOT=$(cd "$(dirname "$0")/.." && pwd)

if ! command -v victoria-metrics >/dev/null 2>&1; then
	echo "installing victoria-metrics (Debian package)..." >&2
	if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
	$SUDO apt-get update -qq && $SUDO apt-get install -y -qq victoria-metrics >/dev/null
fi

TMP=$(mktemp -d /tmp/vm-size.XXXXXX)
VM_PID=
cleanup() {
	if [ -n "$VM_PID" ] && kill -0 "$VM_PID" 2>/dev/null; then
		kill "$VM_PID"
		wait "$VM_PID" 2>/dev/null || true
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

# Retention of 100 years: the dataset starts 2026-01-01, which may be older
# than VM's default retention of one month.
victoria-metrics -storageDataPath="$TMP/data" -httpListenAddr="127.0.0.1:$PORT" \
	-retentionPeriod=100y -loggerLevel=ERROR >"$TMP/vm.log" 2>&1 &
VM_PID=$!
for _ in $(seq 1 100); do
	curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
	sleep 0.2
done
curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null

VERSION=$(victoria-metrics -version 2>&1 | head -1); [ -n "$VERSION" ] || VERSION=$(dpkg-query -W -f '${Version}' victoria-metrics 2>/dev/null || echo unknown)
echo "victoria-metrics: $VERSION"
echo "dataset: $OBJECTS objects x $POINTS points"
(cd "$ROOT" && go run ./bench/vmfeed -url "http://127.0.0.1:$PORT" -objects "$OBJECTS" -points "$POINTS") | tee "$TMP/feed.txt"
SAMPLES=$(awk '/^samples /{print $2}' "$TMP/feed.txt")

size() { du -sb --exclude=cache "$TMP/data" | awk '{print $1}'; }
curl -fsS "http://127.0.0.1:$PORT/internal/force_flush" >/dev/null
sleep 2
curl -fsS "http://127.0.0.1:$PORT/internal/force_merge" >/dev/null || true
# force_merge runs in the background: wait until the size is stable.
prev=-1 stable=0
for _ in $(seq 1 600); do
	cur=$(size)
	if [ "$cur" = "$prev" ]; then stable=$((stable + 1)); else stable=0; fi
	[ "$stable" -ge 5 ] && break
	prev=$cur
	sleep 2
done
# Count what VM holds, to be sure nothing was dropped.
STORED=$(curl -fsS "http://127.0.0.1:$PORT/api/v1/query" --data-urlencode 'query=sum(count_over_time(m_v[400d]))' \
	--data-urlencode "time=$(date +%s)" | sed -n 's/.*"value":\[[^,]*,"\([0-9.e+]*\)".*/\1/p')
TOTAL=$(size)
DATA=$(du -sb "$TMP/data/data" | awk '{print $1}')
INDEX=$(du -sb "$TMP/data/indexdb" | awk '{print $1}')
echo "stored_samples $STORED"
echo "bytes_total_without_cache $TOTAL"
echo "bytes_data $DATA"
echo "bytes_indexdb $INDEX"
awk -v t="$TOTAL" -v d="$DATA" -v s="$SAMPLES" 'BEGIN { printf "bytes_per_sample_total %.3f\nbytes_per_sample_data %.3f\n", t/s, d/s }'
