#!/usr/bin/env bash
# tests/preload/git.sh: git under LD_PRELOAD (and every git subprocess with it): init a repo,
# 25 commits of changing files, then log, diff, a gc (pack-objects) and fsck.
. "$(dirname "$0")/common.bash"

GIT=$(real_program git)
if [ -z "$GIT" ]; then echo "# skip git: not installed"; exit 0; fi
export GIT
git_workload() {
    git_identity
    "$GIT" init -q -b main repo && cd repo || return 1
    for i in $(seq 1 25); do
        GIT_AUTHOR_DATE="2020-01-01T00:00:$(printf %02d "$i") +0000"
        export GIT_AUTHOR_DATE GIT_COMMITTER_DATE=$GIT_AUTHOR_DATE
        seq "$i" 3 $((i * 400)) >"numbers-$((i % 5)).txt"
        awk -v n="$i" 'BEGIN { for (k = 0; k < 300; k++) print "line", k * n % 97, n }' >text.txt
        mkdir -p "dir$((i % 3))" && echo "file $i" >"dir$((i % 3))/f$i"
        "$GIT" add -A && "$GIT" commit -q -m "commit $i" || return 1
    done
    "$GIT" log --stat --format='%H %an %s' | head -n 200
    "$GIT" diff HEAD~7 HEAD --stat
    "$GIT" diff HEAD~3 HEAD | sha256sum
    "$GIT" gc -q --aggressive && "$GIT" fsck --no-progress 2>&1
    "$GIT" count-objects -v | grep -E '^(count|in-pack|packs)'
    "$GIT" rev-parse HEAD
}
compare git git_workload
