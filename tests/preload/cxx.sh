#!/usr/bin/env bash
# tests/preload/cxx.sh: a C++17 program (src/cxx.cpp, built here with g++ -O1) under LD_PRELOAD:
# every form of operator new and delete (array, sized, aligned to 64 and 4096, nothrow, failing),
# exceptions in a loop and across threads, container churn in four std::threads. Its output
# must be glibc's.
. "$(dirname "$0")/common.bash"

CXX=$(real_program g++)
if [ -z "$CXX" ]; then echo "# skip cxx: g++ not installed"; exit 0; fi
SRC=$(cd "$(dirname "$0")/src" && pwd)
mkdir -p "$WORK/bin"
if ! "$CXX" -std=c++17 -O1 -g -Wall -Wextra -Werror -pthread "$SRC/cxx.cpp" -o "$WORK/bin/cxx" 2>"$WORK/build.err"; then
    echo "not ok cxx: src/cxx.cpp does not build: $(head -n 1 "$WORK/build.err")"
    exit 0
fi
export CXX_PROGRAM=$WORK/bin/cxx
cxx_workload() { "$CXX_PROGRAM"; }
compare cxx cxx_workload
