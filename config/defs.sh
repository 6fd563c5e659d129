#!/bin/sh
# Turn a preset (config/*.mk) into -D flags; fail on any value other than true, false or a number.
# Usage: config/defs.sh config/secure.mk [KNOB=VALUE ...]   (later overrides win)
set -eu
preset=$1; shift
{ sed -n 's/^\(SG_CONFIG_[A-Z0-9_]*\)[[:space:]]*:*=[[:space:]]*\([^#[:space:]]*\).*/\1=\2/p' "$preset"; for o in "$@"; do echo "$o"; done; } |
awk -F= '
  { v[$1] = $2; if (!($1 in seen)) { order[n++] = $1; seen[$1] = 1 } }
  END {
    for (i = 0; i < n; i++) {
      k = order[i]; x = v[k]
      if (x == "true") x = 1; else if (x == "false") x = 0
      else if (x !~ /^[0-9]+$/) { printf "bad value for %s: \"%s\" (true, false or a number)\n", k, v[k] > "/dev/stderr"; exit 1 }
      printf "-D%s=%s ", k, x
    }
  }'
