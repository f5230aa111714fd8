// Exact summary statistics over a set of samples (per-request nanoseconds, typically).
// The samples are kept: percentiles are exact, and 1e5 doubles per set is cheap.
#pragma once

#include <cstddef>
#include <vector>

namespace iovsim::sim {

class sample_set {
public:
    // A non-finite value (NaN, inf) is not a sample: it is counted in rejected() and ignored,
    // so one bad measurement cannot poison a whole column's mean.
    void add(double value);

    size_t count() const { return m_samples.size(); }
    size_t rejected() const { return m_rejected; }
    const std::vector<double>& samples() const { return m_samples; }

    // All of the following return 0 on an empty set, so reports stay printable.
    double mean() const;
    // Population standard deviation (divides by n): the set is the whole run, not a sample of it.
    double sigma() const;
    // Nearest-rank percentile: the smallest sample such that at least p% of the samples are <= it.
    // p must lie in (0, 100]; otherwise std::invalid_argument.
    double percentile(double p) const;
    double min() const { return m_samples.empty() ? 0.0 : m_min; }
    double max() const { return m_samples.empty() ? 0.0 : m_max; }

private:
    std::vector<double> m_samples;
    size_t m_rejected = 0;
    double m_min = 0.0;
    double m_max = 0.0;
};

} // namespace iovsim::sim
