#!/usr/bin/env bash
# compare.sh — tsgate, VictoriaMetrics and InfluxDB 1.x side by side on the same
# line-protocol payload (the standard dataset, DESIGN.md §8), issue 12.
#
#   bench/compare.sh [tsgate bench compare flags]
#   e.g. bench/compare.sh --objects 10000 --points 500 --concurrency 8
#
# Installs the Debian packages victoria-metrics and influxdb if missing, builds
# tsgate, then runs `tsgate bench compare`, which starts each system in turn on
# 127.0.0.1 with data under a temp dir, posts the payload, flushes and compacts
# (tsgate: stop, `tsgate admin compact`, start; VictoriaMetrics: force_flush +
# force_merge as bench/vm_size.sh does; InfluxDB: cold snapshot + full
# compaction), measures bytes/sample and peak RSS, and prints one table with
# ratios to VictoriaMetrics. Every process it started is stopped on exit (the
# Go side stops each server after its turn; the trap below kills the whole
# process group if this script is interrupted).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/tsgate-compare.XXXXXX)
CHILD=
cleanup() {
	if [ -n "$CHILD" ] && kill -0 "$CHILD" 2>/dev/null; then
		kill -TERM "$CHILD" 2>/dev/null || true
		wait "$CHILD" 2>/dev/null || true
	fi
	# Anything left in the servers' process groups (they run with Setpgid).
	for pidfile in "$WORK"/run/*.pid; do [ -e "$pidfile" ] && kill -KILL -- "-$(cat "$pidfile")" 2>/dev/null || true; done
	rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

need=()
command -v victoria-metrics >/dev/null 2>&1 || need+=(victoria-metrics)
command -v influxd >/dev/null 2>&1 || need+=(influxdb)
if [ ${#need[@]} -gt 0 ]; then
	echo "installing ${need[*]} (Debian packages)..." >&2
	if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
# The packages' own services (where systemd runs) would hold the default ports and burn CPU
# during the run; our instances use their own ports and data dirs, but stop theirs anyway.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
	systemctl stop victoria-metrics influxdb 2>/dev/null || true
fi

echo "building tsgate..." >&2
(cd "$ROOT" && go build -o "$WORK/tsgate" ./cmd/tsgate)

echo "machine: $(nproc) CPUs, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$WORK/tsgate" bench compare --tsgate "$WORK/tsgate" --dir "$WORK/run" "$@" &
CHILD=$!
wait "$CHILD"
