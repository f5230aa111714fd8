#pragma once
// An HTB-like queueing discipline (Linux sch_htb with one level of classes under the root): each
// class has a token bucket (rate, burst) and a FIFO of packets. A packet of a class leaves when
// the class's bucket holds tokens for its length; otherwise it waits, and the qdisc tells when the
// first waiting packet may go (the watchdog time, qdisc_watchdog_schedule). Classes with a rate
// of 0 are unlimited (their packets leave at once, as HTB's default class with a ceil at line
// rate). Classes are served round robin (HTB's DRR among classes at one level).
//
// Pure logic over times in nanoseconds given by the caller: no SystemC, unit-tested alone. Time
// may appear to go back a little (cores run ahead of each other within a quantum): a bucket
// then simply gains nothing.
#include <cstdint>
#include <deque>
#include <limits>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

namespace iovsim::os::linux_path {

struct htb_class_params {
    double rate_bps = 0;          // bits per second; 0: unlimited
    uint64_t burst_bytes = 0;     // bucket depth (HTB's default: rate / HZ, at least one MTU)
    unsigned limit_packets = 1000;   // queue length (txqueuelen): beyond it, packets are dropped
};

struct htb_class_stats {
    uint64_t enqueued = 0, sent = 0, dropped = 0, delayed = 0;   // delayed: waited for tokens
    uint64_t bytes_sent = 0;
};

template <typename Item>
class htb {
public:
    // Returns the class's index.
    unsigned add_class(const htb_class_params& p)
    {
        if (p.rate_bps < 0 || (p.rate_bps > 0 && p.burst_bytes == 0))
            throw std::invalid_argument("htb: a limited class needs a positive burst");
        m_classes.push_back(cls{p, static_cast<double>(p.burst_bytes), 0, {}, {}});
        return static_cast<unsigned>(m_classes.size() - 1);
    }

    // Queues a packet of `bytes` in class `c` at `now_ns`. False when the class's queue is full
    // (the packet is dropped: counted, and the caller frees it).
    bool enqueue(unsigned c, Item item, uint32_t bytes, double now_ns)
    {
        cls& k = m_classes.at(c);
        if (k.queue.size() >= k.params.limit_packets) {
            ++k.stats.dropped;
            return false;
        }
        refill(k, now_ns);
        if (k.params.rate_bps > 0 && (!k.queue.empty() || k.tokens < bytes))
            ++k.stats.delayed;
        k.queue.push_back({std::move(item), bytes});
        ++k.stats.enqueued;
        ++m_backlog;
        return true;
    }

    // The next packet that may leave at `now_ns` (round robin over the classes that can send),
    // with its class; nullopt when none may.
    std::optional<std::pair<unsigned, Item>> dequeue(double now_ns)
    {
        const size_t n = m_classes.size();
        for (size_t i = 0; i < n; ++i) {
            const unsigned c = static_cast<unsigned>((m_next + i) % n);
            cls& k = m_classes[c];
            if (k.queue.empty())
                continue;
            refill(k, now_ns);
            const uint32_t bytes = k.queue.front().bytes;
            if (k.params.rate_bps > 0) {
                if (k.tokens < bytes)
                    continue;
                k.tokens -= bytes;
            }
            Item item = std::move(k.queue.front().item);
            k.queue.pop_front();
            ++k.stats.sent;
            k.stats.bytes_sent += bytes;
            --m_backlog;
            m_next = (c + 1) % n;
            return std::make_pair(c, std::move(item));
        }
        return std::nullopt;
    }

    // When the first waiting packet's class will have tokens for it (>= now_ns), or +infinity when
    // nothing waits. Only meaningful when dequeue(now_ns) returned nullopt.
    double next_ready_ns(double now_ns) const
    {
        double best = std::numeric_limits<double>::infinity();
        for (const cls& k : m_classes) {
            if (k.queue.empty())
                continue;
            if (k.params.rate_bps <= 0)
                return now_ns;
            const double t = std::max(now_ns, k.last_ns);
            const double tokens = std::min(static_cast<double>(k.params.burst_bytes),
                                           k.tokens + (t - k.last_ns) * k.params.rate_bps / 8e9);
            const double missing = k.queue.front().bytes - tokens;
            best = std::min(best, missing <= 0 ? t : t + missing * 8e9 / k.params.rate_bps);
        }
        return best;
    }

    size_t backlog() const { return m_backlog; }
    size_t classes() const { return m_classes.size(); }
    const htb_class_stats& stats(unsigned c) const { return m_classes.at(c).stats; }
    const htb_class_params& params(unsigned c) const { return m_classes.at(c).params; }

private:
    struct entry {
        Item item;
        uint32_t bytes;
    };
    struct cls {
        htb_class_params params;
        double tokens;       // bytes
        double last_ns;      // when tokens were last brought up to date
        std::deque<entry> queue;
        htb_class_stats stats;
    };
    static void refill(cls& k, double now_ns)
    {
        if (k.params.rate_bps <= 0 || now_ns <= k.last_ns)
            return;
        k.tokens = std::min(static_cast<double>(k.params.burst_bytes), k.tokens + (now_ns - k.last_ns) * k.params.rate_bps / 8e9);
        k.last_ns = now_ns;
    }

    std::vector<cls> m_classes;
    size_t m_next = 0;
    size_t m_backlog = 0;
};

} // namespace iovsim::os::linux_path
