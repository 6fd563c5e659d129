#!/usr/bin/env bash
# perl: a bigger perl workload: nested hashes and arrays, string building and splitting, regular
# expressions with captures, sort, sprintf, pack/unpack, and an MD5 digest of everything.
. "$(dirname "$0")/../../preload/common.bash"
PERL=$(real_program perl)
[ -n "$PERL" ] || { echo "# skip perl: not installed"; exit 0; }
export PERL
perl_workload() {
    "$PERL" -MDigest::MD5=md5_hex -e '
        my $x = 7; my $ctx = Digest::MD5->new;
        sub rnd { $x = ($x * 1103515245 + 12345) % 2147483648; $x }
        for my $round (1 .. 4) {
            my (%h, @recs);
            for my $i (1 .. 150000) {
                my $k = "k" . (rnd() % 40000);
                push @{ $h{$k}{list} }, $i;
                $h{$k}{text} .= chr(97 + $x % 26) x ($x % 5);
                push @recs, { id => $i, w => join("-", map { rnd() % 100 } 1 .. ($x % 8)) };
            }
            my @keys = sort { @{ $h{$b}{list} } <=> @{ $h{$a}{list} } || $a cmp $b } keys %h;
            $ctx->add(join ",", @keys[0 .. 99]);
            my $all = join "\n", map { "$_->{id}:$_->{w}" } @recs;
            my %cnt; $cnt{$1}++ while $all =~ /(\d\d)-(?=\d)/g;
            $ctx->add(join ";", map { "$_=$cnt{$_}" } sort keys %cnt);
            my @parts = split /-|\n/, $all;
            $ctx->add(scalar(@parts), pack("N*", map { $_ % 4294967296 } @parts[0 .. 999]));
            (my $t = $all) =~ s/(\d+):/sprintf("<%06x>", $1)/ge;
            $ctx->add(length($t), substr($t, 1000, 200));
            delete @h{ grep { /3/ } keys %h };
            print "round $round: ", scalar(keys %h), " ", scalar(@parts), " ", length($t), "\n";
        }
        print $ctx->hexdigest, "\n";
    '
}
compare perl perl_workload
