#!/bin/sh
# owt.fcgi - owt-fcgi under Apache mod_fcgid on a shared host, started by Apache
# from your web directory. Apache runs this file; it runs owt-fcgi, which serves
# FastCGI on the socket mod_fcgid hands it. See docs/deploy.md, "Shared host".
#
# mod_fcgid starts this with a bare environment: find your home directory.
[ -n "${HOME:-}" ] || HOME=$(getent passwd "$(id -u)" | cut -d: -f6)
export HOME

# Edit these lines for your account:
OWT_FCGI="$HOME/owt/owt-fcgi"          # the owt-fcgi you built (make in your checkout)
OWT_USERS="$HOME/.owt-users"           # user:hash lines (owt-fcgi --hash-password)
OWT_CACHE="$HOME/.cache/owt-fcgi"      # response cache (use_cache); empty: none
OWT_ARGS="--timeout 120 --max-requests 1000"

# Your code runs as you, reachable from the whole web: never without a password.
if [ ! -r "$OWT_USERS" ]; then
  echo "owt.fcgi: $OWT_USERS is missing: create it (see docs/deploy.md) before serving" >&2
  exit 1
fi
set -- --auth-file "$OWT_USERS"
[ -n "$OWT_CACHE" ] && set -- "$@" --cache-dir "$OWT_CACHE"
# OWT_ARGS is split on blanks on purpose.
# shellcheck disable=SC2086
exec "$OWT_FCGI" --fastcgi "$@" $OWT_ARGS
