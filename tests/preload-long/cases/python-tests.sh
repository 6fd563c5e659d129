#!/usr/bin/env bash
# python-tests: CPython's own regression test modules (Debian's libpython3.11-testsuite) under
# the preload, with PYTHONMALLOC=malloc so that every object comes from malloc. The verdict of
# each module (passed / failed / skipped ...) and the overall result must be glibc's.
. "$(dirname "$0")/../../preload/common.bash"
PY=/usr/bin/python3
if [ ! -x "$PY" ] || ! "$PY" -c 'import test.test_dict' 2>/dev/null; then
    echo "# skip python-tests: /usr/bin/python3 or its test modules missing (scripts/deps.sh preload)"
    exit 0
fi
export PY PYTHONMALLOC=malloc
export PY_TESTS=${SG_PY_TESTS:-test_dict test_list test_set test_unicode test_threading test_json test_re test_collections test_bytes test_deque test_sort test_itertools test_pickle test_weakref test_gc test_array test_struct}
pytests_workload() {
    # -j1: each module in a child process (which inherits the preload)
    "$PY" -m test -j1 $PY_TESTS >pytests.log 2>&1
    echo "python -m test exit status: $?"
    sed -nE 's/^.*\] (test_[A-Za-z0-9_]+) (.*)$/\1 \2/p' pytests.log | sed -E 's/ \(?[0-9.]+ (sec|ms)\)?.*//; s/ -- running:.*//'
    grep -E '^(Tests result|== Tests result)' pytests.log | tail -n 1
    grep '^slabguard:' pytests.log >&2
    grep -E -A20 'failed|crashed' pytests.log | head -n 40 >&2
    return 0
}
compare python-tests pytests_workload
