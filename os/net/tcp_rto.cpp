#include "os/net/tcp_rto.h"

#include <algorithm>

namespace iovsim::os::net {

namespace {
// RFC 6298 section 2: alpha = 1/8, beta = 1/4, K = 4.
constexpr uint64_t alpha_den = 8;
constexpr uint64_t beta_den = 4;
constexpr uint64_t k = 4;
} // namespace

rto_estimator::rto_estimator(const rto_params& params)
    : params_(params), rto_ns_(clamp(params.initial_rto_ns))
{
}

uint64_t rto_estimator::clamp(uint64_t rto) const
{
    return std::min(std::max(rto, params_.min_rto_ns), std::max(params_.max_rto_ns, params_.min_rto_ns));
}

bool rto_estimator::on_ack(uint64_t sent_at_ns, tcp_transmission kind, uint64_t now_ns)
{
    if (kind == tcp_transmission::retransmitted || now_ns < sent_at_ns) {
        return false;
    }
    add_sample(now_ns - sent_at_ns);
    return true;
}

void rto_estimator::add_sample(uint64_t r)
{
    if (!has_sample_) {
        srtt_ns_ = r;
        rttvar_ns_ = r / 2;
        has_sample_ = true;
    } else {
        // RTTVAR first, from the SRTT before this sample (section 2.3).
        const uint64_t err = srtt_ns_ > r ? srtt_ns_ - r : r - srtt_ns_;
        rttvar_ns_ = ((beta_den - 1) * rttvar_ns_ + err) / beta_den;
        srtt_ns_ = ((alpha_den - 1) * srtt_ns_ + r) / alpha_den;
    }
    rto_ns_ = clamp(srtt_ns_ + std::max(params_.clock_granularity_ns, k * rttvar_ns_));
    backoffs_ = 0;
}

void rto_estimator::on_handshake_done(bool syn_timed_out)
{
    constexpr uint64_t syn_fallback_ns = 3'000'000'000;
    if (syn_timed_out && !has_sample_) {
        rto_ns_ = clamp(syn_fallback_ns);
        backoffs_ = 0;
    }
}

void rto_estimator::back_off()
{
    const uint64_t cap = std::max(params_.max_rto_ns, params_.min_rto_ns);
    rto_ns_ = rto_ns_ > cap / 2 ? cap : rto_ns_ * 2;
    ++backoffs_;
}

} // namespace iovsim::os::net
