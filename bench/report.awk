# bench/report.awk: turn bench/run.sh's runs CSV into tables, medians, ratios and geometric means.
# POSIX awk (mawk is enough). Called by run.sh as:
#   awk -f report.awk -v mode=full|quick|mitigations -v ref=ALLOCATOR -v reps=N
#       -v allocfile=F (name TAB library TAB ok|missing|broken TAB detail, in display order)
#       -v workfile=F (workload TAB description, in run order) -v mitfile=bench/mitigations.txt
#       -v csv=OUT.csv -v plot=OUT.dat -v logdir=DIR  RUNS.csv
# Prints the report on stdout; writes the medians and ratios to csv and the ratios to plot
# (gnuplot: index 0 time, index 1 peak RSS; rows are workloads, columns allocators).
#
# A run counts when its status is ok and its check equals the workload's expected check (the
# libc malloc's, else the most common one). One bad run fails the allocator on that workload:
# it is shown as FAILED and left out of its geometric mean.

BEGIN {
    FS = ","
    while ((getline line < allocfile) > 0) {
        split(line, f, "\t")
        A[na++] = f[1]; alib[f[1]] = f[2]; astate[f[1]] = f[3]; adetail[f[1]] = f[4]
    }
    while ((getline line < workfile) > 0) {
        i = index(line, "\t")
        W[nw++] = substr(line, 1, i - 1); wdesc[substr(line, 1, i - 1)] = substr(line, i + 1)
    }
    if (mode == "mitigations")
        while ((getline line < mitfile) > 0) {
            if (line ~ /^[ \t]*#/ || line !~ /[^ \t]/) continue
            n = split(line, f, /[ \t]+/); knobs = ""
            for (i = 2; i <= n; i++) knobs = knobs (i > 2 ? " " : "") f[i]
            mknobs[f[1]] = knobs
        }
}

FNR == 1 { next }
{
    w = $1; a = $2; k = w SUBSEP a
    i = ++nrun[k]
    st[k, i] = $4; wall[k, i] = $5; rss[k, i] = $6; chk[k, i] = $7
    if ($4 == "ok") {
        if (!((w, $7) in ccount)) { cvals[w, ncv[w]++] = $7 }
        ccount[w, $7]++
        if (a == "glibc" && !(w in gcheck)) gcheck[w] = $7
    }
    nm = split($8, ms, ";")
    for (j = 1; j <= nm; j++) {
        split(ms[j], f, ":")
        if (!((w, f[1]) in mseen)) {
            mseen[w, f[1]] = 1; mname[w, nmet[w]++] = f[1]; munit[w, f[1]] = f[3]; mdir[w, f[1]] = f[4]
        }
        mval[k, f[1], i] = f[2]
    }
}

# ---- helpers ------------------------------------------------------------------------------------
function median(arr, n,    i, j, t) {
    for (i = 2; i <= n; i++) {
        t = arr[i]
        for (j = i - 1; j >= 1 && arr[j] > t; j--) arr[j + 1] = arr[j]
        arr[j + 1] = t
    }
    return n % 2 ? arr[(n + 1) / 2] : (arr[n / 2] + arr[n / 2 + 1]) / 2
}
function fmt_time(s) {
    return s < 0.01 ? sprintf("%.2f ms", s * 1000) : s < 1 ? sprintf("%.0f ms", s * 1000) : sprintf("%.2f s", s)
}
function fmt_mib(kb) { return sprintf("%.1f MiB", kb / 1024) }
function fmt_num(v) { return v >= 1000 ? sprintf("%.0f", v) : v >= 10 ? sprintf("%.1f", v) : sprintf("%.2f", v) }
function fmt_ratio(r) { return r == "" ? "-" : sprintf("%.2f", r) }
function csvrow(w, a, q, med, unit, ratio, better, ok, n, status) {
    printf "%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n", mode, w, a, q, med, unit, ratio, better, ok, n, status > csv
}
function rep_line(c, n,    s, i) { s = ""; for (i = 0; i < n; i++) s = s c; return s }

# Per workload and allocator: state (ok, FAILED, missing, broken), medians and ratios to ref.
function summarize(w,    expected, j, best, a, k, n, i, nok, fail, x, y, m, q, mn) {
    expected = ""
    if (w in gcheck) expected = gcheck[w]
    else for (j = 0; j < ncv[w]; j++)
        if (expected == "" || ccount[w, cvals[w, j]] > best) { expected = cvals[w, j]; best = ccount[w, cvals[w, j]] }
    for (j = 0; j < na; j++) {
        a = A[j]; k = w SUBSEP a
        if (astate[a] != "ok") { state[k] = astate[a]; continue }
        n = nrun[k] + 0; nok = 0; fail = ""
        for (i = 1; i <= n; i++) {
            if (st[k, i] == "ok" && chk[k, i] == expected) {
                nok++; x[nok] = wall[k, i]; y[nok] = rss[k, i]
            } else if (fail == "") fail = (st[k, i] == "ok") ? "wrong check value" : st[k, i]
        }
        nruns[k] = n; nokr[k] = nok
        if (n == 0) { state[k] = "no runs"; continue }
        if (fail != "") { state[k] = "FAILED"; why[k] = fail; continue }
        state[k] = "ok"
        medw[k] = median(x, nok); medr[k] = median(y, nok)
        for (m = 0; m < nmet[w]; m++) {
            mn = mname[w, m]
            for (i = 1; i <= n; i++) q[i] = mval[k, mn, i]
            medm[k, mn] = median(q, n)
        }
    }
    for (j = 0; j < na; j++) {
        a = A[j]; k = w SUBSEP a
        rt[k] = rr[k] = rm[k] = ""
        if (state[k] != "ok" || state[w, ref] != "ok") continue
        if (medw[w, ref] > 0) rt[k] = medw[k] / medw[w, ref]
        if (medr[w, ref] > 0) rr[k] = medr[k] / medr[w, ref]
        if (nmet[w] > 0 && medm[w, ref, mname[w, 0]] > 0) rm[k] = medm[k, mname[w, 0]] / medm[w, ref, mname[w, 0]]
    }
}

function print_workload(w,    j, a, k, m, mn, hdr, width) {
    hdr = sprintf("%-11s %9s %12s %11s %12s", "allocator", "time", "x " ref, "peak RSS", "x " ref)
    for (m = 0; m < nmet[w]; m++) {
        mn = mname[w, m]
        hdr = hdr sprintf(" %14s", mn (mdir[w, mn] == "higher" ? "^" : ""))
        if (m == 0) hdr = hdr sprintf(" %12s", "x " ref)
    }
    hdr = hdr "   runs"
    print "== " w ": " wdesc[w] " =="
    print hdr
    for (j = 0; j < na; j++) {
        a = A[j]; k = w SUBSEP a
        if (state[k] == "missing" || state[k] == "broken") { printf "%-11s %s: %s\n", a, state[k], adetail[a]; continue }
        if (state[k] != "ok") {
            printf "%-11s FAILED in %d of %d runs (first: %s%s)\n", a, nruns[k] - nokr[k], nruns[k], why[k],
                why[k] == "wrong check value" ? ": its output differs from the other allocators'" : "; logs in " logdir
            continue
        }
        printf "%-11s %9s %12s %11s %12s", a, fmt_time(medw[k]), fmt_ratio(rt[k]), fmt_mib(medr[k]), fmt_ratio(rr[k])
        for (m = 0; m < nmet[w]; m++) {
            mn = mname[w, m]
            printf " %14s", fmt_num(medm[k, mn]) " " munit[w, mn]
            if (m == 0) printf " %12s", fmt_ratio(rm[k])
        }
        printf "   %d/%d\n", nokr[k], nruns[k]
    }
    print ""
}

function write_csv(w,    j, a, k, m, mn) {
    for (j = 0; j < na; j++) {
        a = A[j]; k = w SUBSEP a
        if (state[k] != "ok") {
            csvrow(w, a, "wall_s", "", "s", "", "lower", nokr[k] + 0, nruns[k] + 0, state[k] == "FAILED" ? why[k] : state[k])
            continue
        }
        csvrow(w, a, "wall_s", medw[k], "s", rt[k], "lower", nokr[k], nruns[k], "ok")
        csvrow(w, a, "peak_rss_kb", medr[k], "KiB", rr[k], "lower", nokr[k], nruns[k], "ok")
        for (m = 0; m < nmet[w]; m++) {
            mn = mname[w, m]
            csvrow(w, a, mn, medm[k, mn], munit[w, mn], m == 0 ? rm[k] : "", mdir[w, mn], nokr[k], nruns[k], "ok")
        }
    }
}

# Geometric means of the time and peak RSS ratios over the workloads both a and ref completed;
# gs: the time ratio without the two handoff workloads (larson, xmalloc), whose times swing by
# several times between runs for some allocators (the reference too) with two threads on two
# cores: comparing trees on it is steadier.
function geomeans(    j, a, t, r, n, s, ns, i, w, k, miss) {
    for (j = 0; j < na; j++) {
        a = A[j]; t = r = n = s = ns = 0; miss = ""
        for (i = 0; i < nw; i++) {
            w = W[i]; k = w SUBSEP a
            if (rt[k] != "" && rr[k] != "") {
                t += log(rt[k]); r += log(rr[k]); n++
                if (w != "larson" && w != "xmalloc") { s += log(rt[k]); ns++ }
            }
            else if (state[k] == "FAILED") miss = miss (miss == "" ? "" : " ") w
        }
        gn[a] = n; gfail[a] = miss
        gt[a] = n ? exp(t / n) : ""; gr[a] = n ? exp(r / n) : ""; gs[a] = ns ? exp(s / ns) : ""
    }
}

function target(who, what, value, limit, cmp,    verdict) {
    if (!(who in astate)) verdict = "n/a (" who " not run)"
    else if (astate[who] != "ok") verdict = "n/a (" who " " astate[who] ")"
    else if (value == "") verdict = "n/a (no result)"
    else if (cmp == "<" ? value < limit : value <= limit) verdict = "met"
    else verdict = "missed"
    printf "  %-9s %-46s %7s   %s\n", who, what, value == "" ? "-" : sprintf("%.2f", value), verdict
}

END {
    printf "mode,workload,allocator,quantity,median,unit,ratio_to_%s,better,runs_ok,runs,status\n", ref > csv
    for (i = 0; i < nw; i++) { summarize(W[i]); write_csv(W[i]) }
    geomeans()

    if (mode != "mitigations") {
        for (i = 0; i < nw; i++) print_workload(W[i])
        print "== geometric mean over the workloads, ratio to " ref " (lower is better) =="
        printf "%-11s %8s %10s %14s   %s\n", "allocator", "time", "peak RSS", "time w/o l,x", "workloads"
        for (j = 0; j < na; j++) {
            a = A[j]
            if (astate[a] != "ok") { printf "%-11s %s\n", a, astate[a]; continue }
            printf "%-11s %8s %10s %14s   %d of %d%s\n", a, fmt_ratio(gt[a]), fmt_ratio(gr[a]), fmt_ratio(gs[a]), gn[a], nw, gfail[a] == "" ? "" : " (FAILED: " gfail[a] ")"
            csvrow("geomean", a, "wall_s", "", "ratio", gt[a], "lower", gn[a], nw, gfail[a] == "" ? "ok" : "failed: " gfail[a])
            csvrow("geomean", a, "peak_rss_kb", "", "ratio", gr[a], "lower", gn[a], nw, gfail[a] == "" ? "ok" : "failed: " gfail[a])
        }
        print "(time w/o l,x: without larson and xmalloc, whose times swing by several times between"
        print " runs with two threads on two cores; steadier for comparing trees. Targets use the full mean.)"
        print ""
        print "== targets (DESIGN.md; printed, not asserted) =="
        printf "  %-9s %-46s %7s   %s\n", "variant", "target", "value", "verdict"
        target("sg-fast", "geomean time <= 0.95x " ref, gt["sg-fast"], 0.95, "<=")
        target("sg-fast", "geomean peak RSS <= 1.00x " ref, gr["sg-fast"], 1.0, "<=")
        target("sg-secure", "geomean time <= 1.15x " ref, gt["sg-secure"], 1.15, "<=")
        target("sg-secure", "geomean time < scudo's (" fmt_ratio(gt["scudo"]) ")", gt["sg-secure"], gt["scudo"] == "" ? 0 : gt["scudo"], "<")
        target("sg-secure", "geomean peak RSS <= 1.10x " ref, gr["sg-secure"], 1.10, "<=")
        target("sg-fast", "seed-burst ns/burst <= 1.00x " ref, rm["seed-burst", "sg-fast"], 1.0, "<=")
        target("sg-secure", "seed-burst ns/burst <= 2.00x " ref, rm["seed-burst", "sg-secure"], 2.0, "<=")
        print ""
    } else {
        print "== cost of each mitigation: time with it switched off, as a ratio to the full secure build =="
        print "   (cost = how much slower the secure build is for having it: 1/geomean - 1)"
        hdr = sprintf("%-21s", "variant")
        for (i = 0; i < nw; i++) { cw[i] = length(W[i]) < 5 ? 5 : length(W[i]); hdr = hdr sprintf(" %*s", cw[i], W[i]) }
        print hdr sprintf(" %8s %9s %8s", "geomean", "peak RSS", "cost")
        for (j = 0; j < na; j++) {
            a = A[j]
            if (astate[a] != "ok") { printf "%-21s %s: %s\n", a, astate[a], adetail[a]; continue }
            printf "%-21s", a
            for (i = 0; i < nw; i++) {
                k = W[i] SUBSEP a
                printf " %*s", cw[i], state[k] == "ok" ? fmt_ratio(rt[k]) : state[k]
            }
            printf " %8s %9s %8s\n", fmt_ratio(gt[a]), fmt_ratio(gr[a]), gt[a] == "" || a == ref ? "-" : sprintf("%+.1f%%", (1 / gt[a] - 1) * 100)
            csvrow("geomean", a, "wall_s", "", "ratio", gt[a], "lower", gn[a], nw, gfail[a] == "" ? "ok" : "failed: " gfail[a])
            csvrow("geomean", a, "peak_rss_kb", "", "ratio", gr[a], "lower", gn[a], nw, gfail[a] == "" ? "ok" : "failed: " gfail[a])
        }
        print ""
        print "variants (bench/mitigations.txt; built by make variant NAME=<variant> OVERRIDES=...):"
        for (j = 0; j < na; j++) if (A[j] in mknobs) printf "  %-21s %s\n", A[j], mknobs[A[j]]
        print ""
        # The absolute medians, so a ratio can be read against them.
        printf "median time of %s: ", ref
        for (i = 0; i < nw; i++) { k = W[i] SUBSEP ref; printf "%s%s %s", i ? ", " : "", W[i], state[k] == "ok" ? fmt_time(medw[k]) : "-" }
        print ""
        print ""
    }

    # The chart: every allocator except the reference, whose ratio is 1 by definition.
    for (b = 0; b < 2; b++) {
        if (b) printf "\n\n" > plot
        printf "workload" > plot
        for (j = 0; j < na; j++) if (A[j] != ref && astate[A[j]] == "ok") printf " %s", A[j] > plot
        printf "\n" > plot
        for (i = 0; i <= nw; i++) {
            w = i < nw ? W[i] : "geomean"
            printf "%s", w > plot
            for (j = 0; j < na; j++) {
                a = A[j]
                if (a == ref || astate[a] != "ok") continue
                v = i < nw ? (b ? rr[w, a] : rt[w, a]) : (b ? gr[a] : gt[a])
                printf " %s", v == "" ? "?" : sprintf("%.4f", v) > plot
            }
            printf "\n" > plot
        }
    }
}
