#!/usr/bin/env bash
# Installs the real servers the test suite starts: PostgreSQL (catalog, ingestion source), MariaDB
# (ingestion source), Redis (stream source) and Ceph RADOS Gateway (S3-compatible storage), and a
# Java runtime for Spark and Kafka when the machine has none. Debian packages only; idempotent; needs root (or sudo).
set -euo pipefail

packages=(postgresql mariadb-server redis-server ceph-mon ceph-osd radosgw ceph-common)
missing=()
for pkg in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "installing system packages: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
