#!/usr/bin/env bash
# Start a throw-away, single-node Ceph cluster with an S3 gateway, entirely inside DIR.
#
#   scripts/ceph/start.sh DIR        # prints the endpoint and keys; writes them to DIR/env
#   scripts/ceph/stop.sh DIR         # stops the daemons (DIR is kept; start again is quicker)
#
# One monitor, one file-backed bluestore OSD (a sparse file) and radosgw, all on 127.0.0.1 with
# ports of their own (free ones are picked; set CEPH_MON_PORT / CEPH_RGW_PORT to choose). Auth is
# off and the messenger runs in crc mode, because radosgw hangs on auth otherwise. The S3 user
# has the keys in CEPH_ACCESS_KEY / CEPH_SECRET_KEY (defaults below). Needs root or a user that
# may run the ceph daemons; the packages come from scripts/install-system-deps.sh.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
for tool in ceph-mon ceph-osd radosgw radosgw-admin ceph monmaptool ceph-authtool; do
    if ! command -v "$tool" >/dev/null; then
        echo "error: $tool is not installed; run scripts/install-system-deps.sh" >&2
        exit 3
    fi
done

mkdir -p "$1"
DIR="$(cd "$1" && pwd)"
CONF="$DIR/ceph.conf"
ACCESS_KEY="${CEPH_ACCESS_KEY:-LAKEBEDTESTACCESSKEY}"
SECRET_KEY="${CEPH_SECRET_KEY:-lakebed-test-secret-key-0000000000000000}"
OSD_SIZE_GB="${CEPH_OSD_SIZE_GB:-8}"
TIMEOUT="${CEPH_START_TIMEOUT:-120}"

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Fail with the tail of the daemon's log, so the reason is on screen.
die() {
    echo "error: $1" >&2
    for log in "$DIR"/log/*.log; do
        [ -f "$log" ] || continue
        echo "--- tail of $log" >&2
        tail -n 15 "$log" >&2
    done
    exit 1
}

# wait_for SECONDS DESCRIPTION COMMAND...: retry COMMAND until it succeeds or time runs out.
wait_for() {
    local seconds=$1 what=$2
    shift 2
    local deadline=$((SECONDS + seconds))
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || die "timed out after ${seconds}s waiting for $what"
        sleep 0.3
    done
}

http_ok() {
    python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$1"
}

cephc() { timeout 20 ceph -c "$CONF" --connect-timeout 10 "$@"; }

running() { [ -f "$DIR/run/$1.pid" ] && kill -0 "$(cat "$DIR/run/$1.pid")" 2>/dev/null; }
if [ -f "$DIR/env" ] && running mon.a && running osd.0 && running client.rgw.a; then
    cat "$DIR/env"  # already up
    exit 0
fi

if [ ! -f "$DIR/initialized" ]; then
    # A leftover half-made cluster cannot be resumed; start from nothing.
    "$(dirname "$0")/stop.sh" "$DIR" >/dev/null 2>&1 || true
    rm -rf "${DIR:?}"/{mon,osd,rgw,run,log,ceph.conf,keyring,monmap,env}
    mkdir -p "$DIR"/{mon,osd/ceph-0,rgw,run,log}
    MON_PORT="${CEPH_MON_PORT:-$(free_port)}"
    RGW_PORT="${CEPH_RGW_PORT:-$(free_port)}"
    FSID="$(uuidgen)"
    cat >"$CONF" <<EOF
[global]
fsid = $FSID
mon initial members = a
mon host = v2:127.0.0.1:$MON_PORT
public addr = 127.0.0.1
ms bind msgr1 = false
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc
ms client mode = crc
ms mon cluster mode = crc
ms cluster mode = crc
ms service mode = crc
ms mon service mode = crc
keyring = $DIR/keyring
run dir = $DIR/run
admin socket = $DIR/run/\$name.asok
pid file = $DIR/run/\$name.pid
log file = $DIR/log/\$name.log
log to stderr = false
err to stderr = false
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
mon data avail warn = 1
mon data avail crit = 0
mon osd full ratio = 0.99
mon osd backfillfull ratio = 0.98
mon osd nearfull ratio = 0.97

[mon]
mon data = $DIR/mon/\$name
# Commit cluster map changes at once instead of batching them for a second each.
paxos propose interval = 0.05
paxos min wait = 0.01

[osd]
osd data = $DIR/osd/ceph-\$id
osd objectstore = bluestore
bluestore block create = true
bluestore block size = $((OSD_SIZE_GB * 1024 * 1024 * 1024))
bluestore fsck on mkfs = false
bluestore fsck on mount = false
bluestore cache autotune = false
bluestore cache size = 134217728
osd memory target = 939524096
osd op num shards = 1
osd op num threads per shard = 2
osd max object name len = 460
osd max object namespace len = 64
osd heartbeat grace = 60

[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw data = $DIR/rgw
rgw dns name = 127.0.0.1
rgw thread pool size = 32
rgw enable usage log = false
rgw lc debug interval = 10
EOF
    ceph-authtool --create-keyring "$DIR/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
    ceph-authtool "$DIR/keyring" --gen-key -n client.admin --cap mon 'allow *' \
        --cap osd 'allow *' --cap mgr 'allow *' >/dev/null
    monmaptool --create --fsid "$FSID" --addv a "[v2:127.0.0.1:$MON_PORT]" "$DIR/monmap" >/dev/null
    ceph-mon -c "$CONF" --mkfs -i a --monmap "$DIR/monmap" --keyring "$DIR/keyring" \
        || die "ceph-mon --mkfs failed"
    NEW_CLUSTER=1
else
    NEW_CLUSTER=0
    RGW_PORT="$(sed -n 's/^rgw frontends = beast endpoint=127.0.0.1:\([0-9]*\)$/\1/p' "$CONF")"
fi

# Daemons fork into the background and write their pid files under DIR/run.
ceph-mon -c "$CONF" -i a || die "ceph-mon did not start"
wait_for 30 "the monitor" cephc mon stat

if [ "$NEW_CLUSTER" = 1 ]; then
    # Create radosgw's pools in one batch now, while the OSD starts; radosgw would otherwise
    # make them one by one, waiting for each to peer (about 2 s apiece).
    for pool in .rgw.root default.rgw.control default.rgw.meta default.rgw.log \
        default.rgw.buckets.index default.rgw.buckets.data default.rgw.buckets.non-ec; do
        echo "osd pool create $pool"
        echo "osd pool application enable $pool rgw"
    done | cephc >"$DIR/log/pools.log" 2>&1 || die "creating the radosgw pools failed"
    OSD_UUID="$(uuidgen)"
    OSD_ID="$(cephc osd new "$OSD_UUID")"
    [ "$OSD_ID" = 0 ] || die "expected osd id 0, got '$OSD_ID'"
    ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$OSD_UUID" >"$DIR/log/osd-mkfs.log" 2>&1 \
        || die "ceph-osd --mkfs failed (see $DIR/log/osd-mkfs.log)"
fi
ceph-osd -c "$CONF" -i 0 || die "ceph-osd did not start"
wait_for 60 "the OSD to come up" bash -c "ceph -c '$CONF' --connect-timeout 10 osd dump \
    | grep -q '^osd.0 up'"

radosgw -c "$CONF" -n client.rgw.a || die "radosgw did not start"
ENDPOINT="http://127.0.0.1:$RGW_PORT"
wait_for "$TIMEOUT" "radosgw at $ENDPOINT" http_ok "$ENDPOINT"

if [ "$NEW_CLUSTER" = 1 ]; then
    timeout 60 radosgw-admin -c "$CONF" -n client.admin user create --uid=lakebed \
        --display-name="lakebed tests" --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" \
        >"$DIR/log/user-create.json" 2>&1 || die "radosgw-admin user create failed"
    touch "$DIR/initialized"
fi

cat >"$DIR/env" <<EOF
CEPH_S3_ENDPOINT=$ENDPOINT
CEPH_S3_ACCESS_KEY=$ACCESS_KEY
CEPH_S3_SECRET_KEY=$SECRET_KEY
AWS_REQUEST_CHECKSUM_CALCULATION=WHEN_REQUIRED
AWS_RESPONSE_CHECKSUM_VALIDATION=WHEN_REQUIRED
EOF
cat "$DIR/env"
