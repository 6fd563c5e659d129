#!/bin/sh
# Install what a task needs from Debian's packages, only what is missing.
# Usage: scripts/deps.sh build|check|bench|fuzz|demo
# As root it runs apt-get; otherwise it prints the exact command and fails.
set -eu
want="gcc make libsodium-dev pkg-config"
case "${1:-build}" in
  build) ;;
  demo)  want="$want sqlite3 python3" ;;
  check) want="$want g++ clang sqlite3 python3 git perl nodejs redis-server redis-tools man-db groff-base valgrind" ;;
  bench) want="$want clang libjemalloc2 libmimalloc2.0 libtcmalloc-minimal4 libclang-rt-14-dev sqlite3 python3 gnuplot-nox" ;;
  fuzz)  want="$want clang afl++" ;;
  preload) want="$want python3 libpython3.11-testsuite sqlite3 git perl nodejs redis-server redis-tools" ;;
  *) echo "usage: $0 build|check|bench|fuzz|demo" >&2; exit 2 ;;
esac
missing=""
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
  echo "slabguard: installing$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq $missing >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq $missing >/dev/null; }
else
  echo "slabguard: missing packages; run: sudo apt-get install -y$missing" >&2
  exit 1
fi
