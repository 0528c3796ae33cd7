#!/usr/bin/env bash
# bootstrap.sh - make a fresh Debian 12 machine ready: install the packages that
# debian-packages.txt (the one list) names for the job, then configure and build
# owt-fcgi in place.
#
#   ./bootstrap.sh                 # [build] [serve]: build, then spawn/owt-serve
#   ./bootstrap.sh --test          # also [test] [clients]: what make check needs
#   ./bootstrap.sh --bench         # also [bench]: what bench/run needs
#   CONFIGURE_FLAGS=--enable-werror ./bootstrap.sh
set -euo pipefail
cd "$(dirname "$0")"

sections=(build serve)
for arg in "$@"; do
  case "$arg" in
    --test) sections+=(test clients) ;;
    --bench) sections+=(bench) ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bootstrap.sh: unknown option $arg (known: --test, --bench)" >&2; exit 2 ;;
  esac
done

# The packages of the named sections ("[name]" lines start a section; # starts a comment).
packages_in() {
  awk -v want=" $* " '
    /^\[/ { name = $0; gsub(/[][[:space:]]/, "", name); on = index(want, " " name " ") > 0; next }
    { sub(/#.*/, "") }
    on { for (i = 1; i <= NF; i++) if (!seen[$i]++) print $i }' debian-packages.txt
}

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo=sudo; fi

mapfile -t wanted < <(packages_in "${sections[@]}")
missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
installed=0
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing ${#missing[@]} Debian packages (${sections[*]}): ${missing[*]}"
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
  installed=1
fi

if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ] ||
   [ tests/unit/unit.am -nt Makefile.in ]; then
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

# configure again after installing packages: it looks for what [test] brings (cmocka).
stale_cmocka=0
if [ -f config.status ] && grep -q '^S\["HAVE_CMOCKA_TRUE"\]="#"' config.status &&
   pkg-config --exists cmocka 2>/dev/null; then stale_cmocka=1; fi
if [ ! -f Makefile ] || [ ! -x config.status ] || [ configure -nt config.status ] ||
   [ "$installed" = 1 ] || [ "$stale_cmocka" = 1 ]; then
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
