#pragma once
// `iovsim plot DIR`: figures of a run's summary.json, rendered by gnuplot as PNG and SVG.
//   throughput (series) summaries: a curve per series, y against x, with the reference curves
//     (dashed) where experiment.reference names a file with a "series" object;
//   breakdown summaries: a stacked bar per column (its rows' means), the paper's bar beside it where
//     experiment.reference names a reference table (sim/report.h) that has the column.
// The gnuplot script and its data stay in DIR (plot.gp, plot.dat) for editing and re-rendering.
#include <string>
#include <vector>

namespace iovsim::sim {

// The gnuplot program to run: IOVSIM_GNUPLOT from the environment, else "gnuplot".
std::string gnuplot_program();

// Writes plot.gp, plot.dat, plot.png and plot.svg into `dir` from dir/summary.json; returns the
// figures' paths. Throws std::runtime_error (no summary, an unknown schema, gnuplot missing or
// failing) with a one-line reason.
std::vector<std::string> plot_results(const std::string& dir);

} // namespace iovsim::sim
