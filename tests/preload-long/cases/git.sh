#!/usr/bin/env bash
# git: 120 commits on two branches with a merge, then `git clone --no-local` of that repository
# (pack-objects and index-pack across a pipe), gc --aggressive, log with patches, blame, fsck.
# Every git process, its children included, is preloaded.
. "$(dirname "$0")/../../preload/common.bash"
GIT=$(real_program git)
[ -n "$GIT" ] || { echo "# skip git: not installed"; exit 0; }
export GIT
git_workload() {
    git_identity
    "$GIT" init -q -b main origin && cd origin || return 1
    for i in $(seq 1 120); do
        export GIT_AUTHOR_DATE="@$((1600000000 + i * 60)) +0000"
        export GIT_COMMITTER_DATE=$GIT_AUTHOR_DATE
        [ "$i" = 60 ] && "$GIT" checkout -q -b side
        [ "$i" = 90 ] && "$GIT" checkout -q main
        seq "$i" 7 $((i * 300)) >"numbers-$((i % 9)).txt"
        awk -v n="$i" 'BEGIN { for (k = 0; k < 400; k++) print "line", k * n % 101, n, k }' >"text-$((i % 4)).txt"
        mkdir -p "d$((i % 6))/e$((i % 5))" && echo "file $i" >"d$((i % 6))/e$((i % 5))/f$i"
        "$GIT" add -A && "$GIT" commit -q -m "commit $i" || return 1
    done
    "$GIT" merge -q -X theirs -m "merge side" side || return 1
    cd .. || return 1
    "$GIT" clone -q --no-local origin clone && cd clone || return 1
    "$GIT" gc -q --aggressive && "$GIT" fsck --no-progress --full 2>&1
    "$GIT" log --format='%H %ad %s' --date=iso-strict | head -n 150
    "$GIT" log -p --stat -n 30 | sha256sum
    "$GIT" blame -s numbers-3.txt | sha256sum
    "$GIT" diff HEAD~40 HEAD --stat | tail -n 3
    "$GIT" count-objects -v | grep -E '^(count|in-pack|packs)'
    "$GIT" rev-parse HEAD HEAD^2
}
compare git git_workload
