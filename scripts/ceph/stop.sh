#!/usr/bin/env bash
# Stop the Ceph daemons that scripts/ceph/start.sh DIR started (by the pid files in DIR/run).
# DIR itself is kept, so a later start.sh DIR comes back with the same data; delete it to forget.
set -uo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
RUN="$1/run"
[ -d "$RUN" ] || exit 0

# Gateway first, then the OSD, then the monitor: each still has what it talks to while stopping.
pids=()
for name in client.rgw.a osd.0 mon.a; do
    pidfile="$RUN/$name.pid"
    [ -f "$pidfile" ] || continue
    pid="$(cat "$pidfile")"
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
    fi
    rm -f "$pidfile"
done

# Give them 3 s to exit cleanly, then make sure (bluestore survives a kill).
for _ in $(seq 1 15); do
    alive=0
    for pid in "${pids[@]}"; do
        kill -0 "$pid" 2>/dev/null && alive=1
    done
    [ $alive = 0 ] && exit 0
    sleep 0.2
done
for pid in "${pids[@]}"; do
    kill -KILL "$pid" 2>/dev/null || true
done
exit 0
