#include "sim/stats.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace iovsim::sim {

namespace {

// Neumaier's compensated sum: the mean of 1e5 samples of very different magnitudes does not
// depend on their order beyond the last bit.
class compensated_sum {
public:
    void add(double x)
    {
        const double t = m_sum + x;
        if (std::fabs(m_sum) >= std::fabs(x))
            m_compensation += (m_sum - t) + x;
        else
            m_compensation += (x - t) + m_sum;
        m_sum = t;
    }
    double value() const { return m_sum + m_compensation; }

private:
    double m_sum = 0.0;
    double m_compensation = 0.0;
};

} // namespace

void sample_set::add(double value)
{
    if (!std::isfinite(value)) {
        ++m_rejected;
        return;
    }
    if (m_samples.empty()) {
        m_min = value;
        m_max = value;
    } else {
        m_min = std::min(m_min, value);
        m_max = std::max(m_max, value);
    }
    m_samples.push_back(value);
}

double sample_set::mean() const
{
    if (m_samples.empty())
        return 0.0;
    compensated_sum sum;
    for (double v : m_samples)
        sum.add(v);
    return sum.value() / static_cast<double>(m_samples.size());
}

double sample_set::sigma() const
{
    const size_t n = m_samples.size();
    if (n < 2)
        return 0.0;
    // Corrected two-pass algorithm (Chan, Golub, LeVeque): the second term removes the rounding
    // error left in the first pass's mean.
    const double m = mean();
    compensated_sum squares;
    compensated_sum residual;
    for (double v : m_samples) {
        const double d = v - m;
        squares.add(d * d);
        residual.add(d);
    }
    const double nd = static_cast<double>(n);
    const double variance = (squares.value() - residual.value() * residual.value() / nd) / nd;
    return variance > 0.0 ? std::sqrt(variance) : 0.0;
}

double sample_set::percentile(double p) const
{
    if (!(p > 0.0 && p <= 100.0))
        throw std::invalid_argument("percentile: p must lie in (0, 100], got " + std::to_string(p));
    if (m_samples.empty())
        return 0.0;
    std::vector<double> sorted(m_samples);
    std::sort(sorted.begin(), sorted.end());
    const double n = static_cast<double>(sorted.size());
    // Nearest rank = ceil(p * n / 100). Multiplying first keeps integer products exact; the
    // 1e-9 keeps a rank that is an integer in decimal (p = 99.9, n = 1000) from rounding up.
    double rank = std::ceil(p * n / 100.0 - 1e-9);
    rank = std::clamp(rank, 1.0, n);
    return sorted[static_cast<size_t>(rank) - 1];
}

} // namespace iovsim::sim
