#include "os/kernel/vsic_emulator.h"

#include <algorithm>
#include <cstring>

#include "models/platform/address_map.h"
#include "os/kernel/vsic_setup.h"

namespace iovsim::os::kernel {

namespace reg = iovsim::storage::reg;
using storage::status;

vsic_emulator::vsic_emulator(cpu_core& core, const vsic_emulator_params& p)
    : m_core(core), m_p(p), m_vsics(std::min(p.max_vsics, storage::max_vsics)), m_pending(p.entries)
{
}

vsic_emulator::~vsic_emulator()
{
    for (unsigned w : m_watches)
        m_core.memory().unwatch(w);
}

void vsic_emulator::stop()
{
    m_stop = true;
    m_wake.notify(sc_core::SC_ZERO_TIME);
}

uint32_t vsic_emulator::word(uint64_t pa) const
{
    uint32_t v;
    std::memcpy(&v, m_core.mem(pa, 4), 4);
    return v;
}

uint64_t vsic_emulator::vsic_base(unsigned v) const
{
    return m_p.window_pa + reg::pf_window + uint64_t(v) * reg::function_window;
}

// Follows the VSIC's enables and, when its queue pair is turned on, takes its geometry (as a
// device latches it at QCTL.EN).
void vsic_emulator::refresh(unsigned v)
{
    const uint64_t b = vsic_base(v);
    const uint32_t en = word(m_p.window_pa + (v < 32 ? reg::VSICEN0 : reg::VSICEN1));
    const bool on = (en >> (v % 32) & 1) && (word(b + reg::CC) & reg::CC_EN) &&
                    (word(b + reg::queue_reg(0, reg::QCTL_OFF)) & reg::QCTL_EN);
    vsic_state& s = m_vsics[v];
    if (!on) {
        s.enabled = false;
        return;
    }
    if (s.enabled)
        return;
    const auto u64 = [this](uint64_t lo) { return word(lo) | uint64_t(word(lo + 4)) << 32; };
    s.sq_base = u64(b + reg::queue_reg(0, reg::SQBAL_OFF)) & ~0x3FULL;
    s.cq_base = u64(b + reg::queue_reg(0, reg::CQBAL_OFF)) & ~0xFULL;
    s.sq_size = word(b + reg::queue_reg(0, reg::SQSZ_OFF));
    s.cq_size = word(b + reg::queue_reg(0, reg::CQSZ_OFF));
    s.qctl = word(b + reg::queue_reg(0, reg::QCTL_OFF));
    s.dma_base = u64(b + reg::EMU_DMA_BASE_LO);
    s.dma_len = u64(b + reg::EMU_DMA_LEN_LO);
    const auto size_ok = [](uint32_t n) { return n >= reg::min_queue_entries && n <= storage::max_queue_entries; };
    if (!size_ok(s.sq_size) || !size_ok(s.cq_size) || s.sq_base == 0 || s.cq_base == 0 ||
        !in_window(s, s.sq_base, uint64_t(s.sq_size) * storage::sqe_bytes) ||
        !in_window(s, s.cq_base, uint64_t(s.cq_size) * storage::cqe_bytes))
        return;   // a pair the emulator cannot serve stays off (its rings must lie in the window)
    s.sq_head = s.cq_tail = 0;
    s.phase = true;
    s.enabled = true;
}

bool vsic_emulator::in_window(const vsic_state& s, uint64_t iova, uint64_t bytes) const
{
    return iova >= s.dma_base && storage::range_within(iova - s.dma_base, bytes, s.dma_len);
}

bool vsic_emulator::has_work()
{
    if (m_pfq->completion_ready())
        return true;
    const bool free_slot = std::any_of(m_pending.begin(), m_pending.end(), [](const pending& p) { return !p.busy; });
    for (unsigned v = 0; v < m_vsics.size(); ++v) {
        refresh(v);
        const vsic_state& s = m_vsics[v];
        if (!s.enabled)
            continue;
        const uint64_t b = vsic_base(v);
        if (free_slot && word(b + reg::sq_tail_doorbell(0)) % s.sq_size != s.sq_head)
            return true;
        for (const completion& c : m_backlog)
            if (c.vsic == v && (s.cq_tail + 1) % s.cq_size != word(b + reg::cq_head_doorbell(0)))
                return true;
    }
    return false;
}

void vsic_emulator::run()
{
    dev::blk_queue_params qp;
    qp.qid = m_p.pf_queue;
    qp.sq_pa = m_p.sq_pa;
    qp.cq_pa = m_p.cq_pa;
    qp.entries = m_p.entries;
    qp.wait = dev::blk_wait::poll;
    qp.completion_line = dev::blk_line_source::dram;
    dev::blk_queue pfq({&m_core, models::storage_pf_bar0, false}, qp);
    m_pfq = &pfq;
    pfq.init(category::scheduler);
    m_watches.push_back(m_core.memory().watch(m_p.window_pa, vsic_layout::emulated_bytes, m_wake));
    m_watches.push_back(m_core.memory().watch(m_p.cq_pa, uint64_t(m_p.entries) * storage::cqe_bytes, m_wake));
    const auto& costs = m_core.costs();
    while (!m_stop) {
        m_core.wait_until(category::poll, [this] { return m_stop || has_work(); }, &m_wake);
        if (m_stop)
            break;
        m_core.run(category::poll, costs.s_vsic_poll);
        ++m_stats.passes;
        reap();
        for (auto it = m_backlog.begin(); it != m_backlog.end();)
            it = post(*it) ? m_backlog.erase(it) : std::next(it);
        // One command per VSIC per pass, starting one further each pass: round-robin.
        const unsigned n = static_cast<unsigned>(m_vsics.size());
        for (unsigned k = 0; k < n; ++k)
            if (m_vsics[(m_rr + k) % n].enabled)
                serve((m_rr + k) % n);
        m_rr = (m_rr + 1) % n;
    }
    m_pfq = nullptr;
}

void vsic_emulator::serve(unsigned v)
{
    vsic_state& s = m_vsics[v];
    const uint64_t b = vsic_base(v);
    const uint32_t tail = word(b + reg::sq_tail_doorbell(0));
    if (tail >= s.sq_size || tail == s.sq_head)
        return;
    const auto slot = std::find_if(m_pending.begin(), m_pending.end(), [](const pending& p) { return !p.busy; });
    if (slot == m_pending.end() || m_pfq->in_flight() + 1 >= m_pfq->entries())
        return;   // the controller's ring is full: the command waits in the VSIC's ring
    const auto& costs = m_core.costs();
    const request_id req = m_core.open_request();
    // The doorbell and the command: lines the application's core wrote.
    m_core.charge_ns(category::vsic, 2 * costs.c2c_line_ns);
    const uint8_t* raw = m_core.mem(s.sq_base + uint64_t(s.sq_head) * storage::sqe_bytes, storage::sqe_bytes);
    const storage::sqe cmd = storage::sqe::decode(raw);
    s.sq_head = (s.sq_head + 1) % s.sq_size;
    m_core.run(category::vsic, costs.s_vsic_command);
    auto refuse = [&](status code, uint64_t& counter) {
        ++counter;
        const completion c{v, cmd.cid, code, req};
        if (!post(c))
            m_backlog.push_back(c);
        m_core.set_request(no_request);
    };
    const status format = storage::check_format(raw, cmd, storage::max_transfer_blocks);
    if (format != status::success)
        return refuse(format, m_stats.malformed);
    m_table.load(v, m_core.mem(m_p.window_pa + reg::VSA0, reg::pf_window - reg::VSA0));
    const storage::vsa_translation t = m_table.translate(v, cmd);
    if (t.code != status::success)
        return refuse(t.code, m_stats.refused);
    if (cmd.op != storage::opcode::flush) {
        const uint64_t bytes = uint64_t(cmd.nlb) * storage::block_bytes;
        bool ok;
        if (cmd.flags == storage::SQE_DPTR_PRP) {
            const uint64_t first = std::min<uint64_t>(bytes, storage::page_bytes - cmd.prp1 % storage::page_bytes);
            if (bytes - first > storage::page_bytes)
                return refuse(status::invalid_field, m_stats.malformed);   // a PRP list: not taken
            ok = in_window(s, cmd.prp1, first) && (bytes == first || in_window(s, cmd.prp2, bytes - first));
        } else {
            ok = in_window(s, cmd.prp1, bytes);
        }
        if (!ok)
            return refuse(status::data_transfer_error, m_stats.refused);
        if (m_p.bounce_slot_bytes && bytes > m_p.bounce_slot_bytes)
            return refuse(status::invalid_field, m_stats.refused);   // beyond what a bounce slot holds
    }
    const unsigned index = static_cast<unsigned>(slot - m_pending.begin());
    pending p{v, cmd.cid, req, true};
    p.read = cmd.op == storage::opcode::read;
    p.prp1 = cmd.prp1;
    p.prp2 = cmd.prp2;
    p.prp = cmd.flags == storage::SQE_DPTR_PRP;
    p.bytes = cmd.op == storage::opcode::flush ? 0 : cmd.nlb * storage::block_bytes;
    const bool bounce = m_p.bounce_slot_bytes && p.bytes > 0;
    if (bounce && cmd.op == storage::opcode::write)
        bounce_copy(p, index, true);
    dev::blk_request r;
    r.op = cmd.op == storage::opcode::read ? dev::blk_op::read : cmd.op == storage::opcode::write ? dev::blk_op::write : dev::blk_op::flush;
    r.nsid = storage::pf_nsid;
    r.lba = t.phys_lba;
    r.blocks = cmd.nlb;
    r.iova = bounce ? m_p.bounce_pa + uint64_t(index) * m_p.bounce_slot_bytes : cmd.prp1;
    r.iova2 = bounce ? 0 : cmd.prp2;
    r.prp = !bounce && p.prp;
    r.cid = static_cast<uint16_t>(index);
    m_pfq->submit(category::vsic, r);
    *slot = p;
    ++m_stats.commands;
    m_core.set_request(no_request);
}

void vsic_emulator::bounce_copy(const pending& p, unsigned slot, bool to_bounce)
{
    const auto& costs = m_core.costs();
    const uint64_t bounce = m_p.bounce_pa + uint64_t(slot) * m_p.bounce_slot_bytes;
    const uint64_t first = p.prp ? std::min<uint64_t>(p.bytes, storage::page_bytes - p.prp1 % storage::page_bytes) : p.bytes;
    const std::pair<uint64_t, uint64_t> pieces[] = {{p.prp1, first}, {p.prp2, p.bytes - first}};
    uint64_t at = 0;
    for (const auto& [app, len] : pieces) {
        if (len == 0)
            continue;
        uint8_t* a = m_core.mem(app, len);
        uint8_t* b = m_core.mem(bounce + at, len);
        if (to_bounce)
            std::memcpy(b, a, len);
        else
            std::memcpy(a, b, len);
        at += len;
    }
    m_core.copy(category::vsic, p.bytes);
    // The application's lines live in its core's cache (it wrote the data, or will read it): the
    // first comes at a cross-core transfer's latency, the rest stream behind it. Read data comes
    // from DRAM, where the controller's DMA put it.
    const unsigned lines = lines_of(p.bytes);
    const double per_line = costs.c2c_stream_line_ns + (to_bounce ? 0.0 : costs.dram_stream_line_ns);
    m_core.charge_ns(category::vsic, costs.c2c_line_ns + (lines - 1) * per_line);
}

void vsic_emulator::reap()
{
    const auto& costs = m_core.costs();
    std::vector<dev::blk_completion> out;
    dev::blk_completion next;
    while (m_pfq->peek(next)) {
        pending* p = next.cid < m_pending.size() && m_pending[next.cid].busy ? &m_pending[next.cid] : nullptr;
        m_core.set_request(p ? p->request : no_request);
        out.clear();
        m_pfq->reap(category::vsic, out, 1);
        if (!p)
            continue;   // not ours (cannot happen with a sane controller): dropped
        m_core.run(category::vsic, costs.s_vsic_complete);
        if (m_p.bounce_slot_bytes && p->read && p->bytes > 0 && next.status == 0)
            bounce_copy(*p, next.cid, false);
        p->busy = false;
        const completion c{p->vsic, p->cid, static_cast<status>(next.status), p->request};
        if (!post(c))
            m_backlog.push_back(c);
    }
    m_core.set_request(no_request);
}

// Writes the completion into the VSIC's ring (false when the ring is full), closing the request.
bool vsic_emulator::post(const completion& c)
{
    vsic_state& s = m_vsics[c.vsic];
    if (!s.enabled) {
        m_core.acct().close(c.request);
        return true;   // the VSIC went away: nobody to tell
    }
    const uint64_t b = vsic_base(c.vsic);
    if ((s.cq_tail + 1) % s.cq_size == word(b + reg::cq_head_doorbell(0)))
        return false;
    m_core.set_request(c.request);
    // The completion line: the application's core polls it, so the store takes it from there.
    m_core.charge_ns(category::vsic, m_core.costs().c2c_line_ns);
    storage::cqe e;
    e.sq_head = static_cast<uint16_t>(s.sq_head);
    e.sq_id = 0;
    e.cid = c.cid;
    e.code = c.code;
    e.phase = s.phase;
    const uint64_t at = s.cq_base + uint64_t(s.cq_tail) * storage::cqe_bytes;
    e.encode(m_core.mem(at, storage::cqe_bytes));
    m_core.memory().announce_store(at, storage::cqe_bytes, m_core.local_time());
    s.cq_tail = (s.cq_tail + 1) % s.cq_size;
    if (s.cq_tail == 0)
        s.phase = !s.phase;
    ++m_stats.completions;
    if (s.qctl & reg::QCTL_IEN) {
        const uint64_t entry = b + reg::MSIX0 + ((s.qctl & reg::QCTL_IV_MASK) >> reg::QCTL_IV_SHIFT) * storage::msix_entry_bytes;
        if (!(word(entry + reg::MSIX_CTRL) & reg::MSIX_VECTOR_MASKED)) {
            const uint64_t addr = word(entry + reg::MSIX_ADDR_LO) | uint64_t(word(entry + reg::MSIX_ADDR_HI)) << 32;
            m_core.mmio_write32(category::vsic, addr, word(entry + reg::MSIX_DATA));
            ++m_stats.interrupts;
        }
    }
    m_core.acct().close(c.request);
    m_core.set_request(no_request);
    return true;
}

} // namespace iovsim::os::kernel
