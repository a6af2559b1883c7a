#!/usr/bin/env bash
# Installs the real servers the test suite starts: PostgreSQL (catalog) and Ceph RADOS Gateway
# (S3-compatible storage). Debian packages only; idempotent; needs root (or sudo).
set -euo pipefail

packages=(postgresql ceph-mon ceph-osd radosgw ceph-common)
missing=()
for pkg in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "installing system packages: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
