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
# Whether CONFIGURE_FLAGS differ from the arguments config.status was made
# with. A NAME=VALUE that configure recorded from the environment (CC=clang
# ./bootstrap.sh) and that the environment still holds is not a difference.
flags_changed() {
  local -a had=() want=() kept=()
  local a
  eval "had=($(./config.status --config))" || return 0
  read -r -a want <<<"${CONFIGURE_FLAGS:-}"
  for a in "${had[@]+"${had[@]}"}"; do
    if [[ $a =~ ^([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]] && [[ " ${want[*]-} " != *" $a "* ]] &&
      [ "${!BASH_REMATCH[1]-}" = "${BASH_REMATCH[2]}" ]; then
      continue
    fi
    kept+=("$a")
  done
  if [ "${kept[*]-}" != "${want[*]-}" ]; then
    echo "bootstrap: configured with '${kept[*]-}', CONFIGURE_FLAGS is '${want[*]-}': configuring again"
    return 0
  fi
  return 1
}

if [ ! -f Makefile ] || [ ! -x config.status ] || [ configure -nt config.status ]; then
  # shellcheck disable=SC2086
  ./configure ${CONFIGURE_FLAGS:-}
elif flags_changed; then
  # shellcheck disable=SC2086
  ./configure ${CONFIGURE_FLAGS:-}
  # Objects depend on their sources, not on the flags: rebuild them all, or
  # a --enable-werror or --enable-sanitizers would not reach what is built.
  make clean >/dev/null
fi
make -j"$(nproc)"
