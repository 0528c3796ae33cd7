#!/usr/bin/env bash
# bootstrap.sh - make a fresh Debian 12 machine ready: install the packages in
# debian-packages.txt (the one list), then configure and build owt-fcgi in place.
#
#   ./bootstrap.sh                 # packages + build
#   CONFIGURE_FLAGS=--enable-werror ./bootstrap.sh
set -euo pipefail
cd "$(dirname "$0")"

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo=sudo; fi

mapfile -t wanted < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' debian-packages.txt | awk NF)
missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing ${#missing[@]} Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ]; then
  autoreconf -fi
fi
if [ ! -f Makefile ] || [ configure -nt config.status ]; then
  # shellcheck disable=SC2086
  ./configure ${CONFIGURE_FLAGS:-}
fi
make -j"$(nproc)"
