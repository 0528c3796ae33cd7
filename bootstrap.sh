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
  # lighttpd, nginx and apache2 would each start a system service on port 80
  # at install, and the second one fails its install. owt starts its own
  # instances on its own ports, so keep the services from starting meanwhile
  # (only when no policy is in place already; it is removed afterwards).
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod 755 "$policy"
    trap '$sudo rm -f "$policy"' EXIT
  fi
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
