#!/usr/bin/env bash
# tests/preload/perl.sh: perl (built with the system malloc) under LD_PRELOAD: hashes, arrays,
# string building, regular expressions and sorting, with an MD5 digest of the results.
. "$(dirname "$0")/common.bash"

PERL=$(real_program perl)
if [ -z "$PERL" ]; then echo "# skip perl: not installed"; exit 0; fi
export PERL
perl_workload() {
    "$PERL" -MDigest::MD5=md5_hex -e '
        my (%h, @a, $s);
        my $x = 1;
        for my $i (1 .. 200000) {
            $x = ($x * 1103515245 + 12345) % 2147483648;
            $h{"k" . ($x % 50000)} .= chr(97 + $x % 26);
            push @a, [$i, $x % 1000, "v" x ($x % 50)];
        }
        $s .= join(",", map { "$_=$h{$_}" } sort keys %h);
        my @sorted = sort { $a->[1] <=> $b->[1] || $a->[0] <=> $b->[0] } @a;
        my $count = () = $s =~ /[aeiou]{3,}/g;
        delete @h{grep { /7/ } keys %h};
        print scalar(keys %h), " ", $count, " ", length($s), "\n";
        print md5_hex($s, join(";", map { "@$_" } @sorted[0 .. 999])), "\n";
    '
}
compare perl perl_workload
