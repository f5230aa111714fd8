#pragma once
// Attribution of every charge to (request, category): DESIGN.md rule 4. A request is the server's
// handling of one incoming packet; software opens it when it first sees the packet and carries its
// id with the buffer. Work done before a packet is identified (the interrupt entry, waking from idle,
// the poll that found it) is held and given to the next request opened on that core.
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "os/core/category.h"

namespace iovsim::os {

using request_id = uint64_t;
constexpr request_id no_request = 0;

class accounting {
public:
    using row = std::array<double, category_count>;   // nanoseconds

    // Opens a request; `carry` is the core's pending work to fold into it.
    request_id open(row& carry);
    void charge(request_id id, category c, double ns);
    // The request turned out to be no request of its own (a pure TCP acknowledgement, which the
    // server's application never sees): its row so far moves into `carry`, the work done before the
    // next request is identified, and the id is left empty and counted as folded.
    void fold(request_id id, row& carry);
    // Request `from` is part of `into`: its row moves there (counted as folded too).
    void merge(request_id from, request_id into);
    uint64_t folded() const { return m_folded; }
    void close(request_id id) { if (m_keep && id != no_request && id <= m_rows.size()) m_closed[id - 1] = true; }

    // Without keeping, requests are counted and their charges summed, but no row is stored (for
    // long benchmark runs whose memory must not grow with the number of requests).
    void set_keep_rows(bool keep) { m_keep = keep; }
    // Every request's charges, carried work included (the sum of the rows when they are kept).
    const row& totals() const { return m_totals; }
    uint64_t opened() const { return m_opened; }

    size_t requests() const { return m_rows.size(); }
    const row& of(request_id id) const { return m_rows.at(id - 1); }
    bool closed(request_id id) const { return m_closed.at(id - 1); }
    const row& unattributed() const { return m_none; }

private:
    std::vector<row> m_rows;
    std::vector<bool> m_closed;
    row m_none{};
    row m_totals{};
    uint64_t m_opened = 0;
    uint64_t m_folded = 0;
    bool m_keep = true;
};

} // namespace iovsim::os
