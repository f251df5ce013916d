#!/usr/bin/env bash
# install-deps.sh: installs the Debian 12 packages pg_tenancy builds, tests and
# demos with. Run as root; does nothing when everything is already installed.
# No service is started: the tests and the demo run their own throwaway clusters.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  postgresql-15 postgresql-server-dev-15 postgresql-common
  libpqxx-dev libboost-test-dev libssl-dev nlohmann-json3-dev libcli11-dev
  pgbouncer gnuplot-nox procps jq clang-format-14
  clang-14 libclang-rt-14-dev llvm-14 util-linux
)
# The ticket service, the Node.js and Python examples (examples/), and the
# identity tokens minted by PyJWT and Node jose (tests/identity/interop).
packages+=(libcpp-httplib-dev curl nodejs python3 python3-psycopg python3-psycopg-pool python3-jwt python3-cryptography)
# Debian's npm, unless the installed nodejs already brings one (NodeSource's
# does, and conflicts with Debian's npm package).
command -v npm >/dev/null 2>&1 || packages+=(npm)

# One dpkg-query for all packages: a fast no-op when everything is installed.
installed=$(dpkg-query -W -f='${Package} ${Status}\n' "${packages[@]}" 2>/dev/null | awk '/ install ok installed$/ {print $1}' || true)
missing=()
for package in "${packages[@]}"; do
  grep -qx "$package" <<<"$installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps.sh: missing packages (${missing[*]}); run as root to install them" >&2
  exit 1
fi

# Keep package installation from creating or starting a default cluster or a
# pgbouncer service: nothing of ours should listen after we are done.
mkdir -p /etc/postgresql-common
if ! grep -qs '^create_main_cluster *= *false' /etc/postgresql-common/createcluster.conf; then
  echo 'create_main_cluster = false' >> /etc/postgresql-common/createcluster.conf
fi
created_policy=no
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod 755 /usr/sbin/policy-rc.d
  created_policy=yes
fi
trap '[ "$created_policy" = yes ] && rm -f /usr/sbin/policy-rc.d' EXIT

echo "install-deps.sh: installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
