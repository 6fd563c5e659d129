# bench/plot.gp: the chart of a bench run: time and peak RSS of each allocator, per workload and
# geometric mean, as ratios to the reference (log scale; a bar below the line is better).
# Called by bench/run.sh:
#   gnuplot -e "datafile='F'; outfile='OUT.png'; ref='mimalloc'; heading='...'; ncols=N" bench/plot.gp
# datafile: index 0 time ratios, index 1 peak RSS ratios; a header row of allocator names, then
# one row per workload; "?" where an allocator has no result.
set terminal pngcairo size 1500,1000 font ",10"
set output outfile
set datafile missing "?"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set xtics nomirror rotate by -25 scale 0
set grid ytics
set logscale y 2
set yrange [0.125:*]
set key outside right top
set multiplot layout 2,1 title heading
set title "time, ratio to ".ref." (lower is better)"
set ylabel "x ".ref
plot for [i=2:ncols+1] datafile index 0 using i:xtic(1) title columnheader(i), \
     1 with lines dashtype 2 lc rgb "black" notitle
set title "peak RSS, ratio to ".ref." (lower is better)"
plot for [i=2:ncols+1] datafile index 1 using i:xtic(1) title columnheader(i), \
     1 with lines dashtype 2 lc rgb "black" notitle
unset multiplot
