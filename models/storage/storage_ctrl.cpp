#include "models/storage/storage_ctrl.h"

#include <algorithm>
#include <cstring>
#include <random>
#include <stdexcept>

#include "models/platform/address_map.h"
#include "sim/trace.h"

using namespace sc_core;
using iovsim::models::reg_access;
using iovsim::models::reg_file;
using iovsim::models::set_hi;
using iovsim::models::set_lo;

namespace iovsim::storage {

struct storage_ctrl::function {
    reg_file regs;
    uint16_t rid = 0;
    bool is_vsic = false;
    unsigned vsic = 0;
    uint32_t cc = 0;
    struct msix_entry {
        uint32_t addr_lo = 0, addr_hi = 0, data = 0, ctrl = reg::MSIX_VECTOR_MASKED;
        bool pending = false;
    };
    std::vector<msix_entry> msix;
    std::vector<queue_pair*> queues;
    uint64_t malformed = 0, dma_errors = 0, bounds_errors = 0;
};

struct storage_ctrl::queue_pair {
    function* fn = nullptr;
    uint16_t id = 0;                 // within its function (CQE SQ id)
    uint64_t sq_base = 0, cq_base = 0;
    uint32_t sq_size = 0, cq_size = 0, qctl = 0;
    uint32_t sq_head = 0, sq_tail = 0, cq_tail = 0, cq_head = 0;
    bool phase = true;
    std::deque<std::pair<sc_time, uint32_t>> tails;   // doorbell writes on their way: (visible at, value)
    bool enabled() const { return qctl & reg::QCTL_EN; }
};

struct storage_ctrl::command {
    queue_pair* q = nullptr;
    sqe cmd;
    uint64_t phys_lba = 0;
    std::vector<dma_segment> segments;
    std::vector<uint8_t> data;
    sc_time begin, end;
};

SC_HAS_PROCESS(storage_ctrl);

storage_ctrl::storage_ctrl(sc_module_name name, const ctrl_params& params)
    : sc_module(name), bar("bar"), dma("dma"), m_params(params), m_service_rng(params.service_seed), m_store(params.capacity_blocks),
      m_cache(params.cache_blocks), m_slot_free(std::max(1u, params.parallel), SC_ZERO_TIME)
{
    if (params.num_vsics > max_vsics)
        throw std::invalid_argument("storage: at most 64 VSICs");
    bar.register_b_transport(this, &storage_ctrl::bar_b_transport);
    for (unsigned f = 0; f <= params.num_vsics; ++f) {
        auto fn = std::make_unique<function>();
        fn->is_vsic = f > 0;
        fn->vsic = f > 0 ? f - 1 : 0;
        fn->rid = fn->is_vsic ? models::storage_vsic_rid(fn->vsic) : models::storage_pf_rid;
        const unsigned nq = fn->is_vsic ? vsic_queues : pf_queues;
        fn->msix.resize(fn->is_vsic ? vsic_msix_vectors : pf_msix_vectors);
        for (unsigned i = 0; i < nq; ++i) {
            auto q = std::make_unique<queue_pair>();
            q->fn = fn.get();
            q->id = static_cast<uint16_t>(i);
            fn->queues.push_back(q.get());
            m_queues.push_back(std::move(q));
        }
        build_registers(*fn);
        m_functions.push_back(std::move(fn));
    }
    SC_THREAD(fetch_thread);
    SC_THREAD(complete_thread);
    SC_METHOD(power_off);
    sensitive << m_power_event;
    dont_initialize();
}

storage_ctrl::~storage_ctrl() = default;

void storage_ctrl::build_registers(function& fn)
{
    reg_file& r = fn.regs;
    const unsigned nq = static_cast<unsigned>(fn.queues.size());
    r.add({"CAP", reg::CAP, (max_queue_entries - 1) | nq << reg::CAP_NQP_SHIFT, reg_access::ro, 1, 4, {}, {}});
    r.add({"VS", reg::VS, reg::VS_1_0, reg_access::ro, 1, 4, {}, {}});
    r.add({"CC", reg::CC, 0, reg_access::rw, 1, 4, [&fn](unsigned, uint32_t, uint32_t v) { fn.cc = v; }, {}});
    r.add({"CSTS", reg::CSTS, 0, reg_access::ro, 1, 4, {}, [this, &fn](unsigned, uint32_t) {
               return (m_powered && (fn.cc & reg::CC_EN) ? reg::CSTS_RDY : 0u) | (m_powered ? 0u : reg::CSTS_CFS);
           }});
    const uint64_t nsze = fn.is_vsic ? 0 : m_params.capacity_blocks;
    r.add({"NSZE_LO", reg::NSZE_LO, static_cast<uint32_t>(nsze), reg_access::ro, 1, 4, {}, {}});
    r.add({"NSZE_HI", reg::NSZE_HI, static_cast<uint32_t>(nsze >> 32), reg_access::ro, 1, 4, {}, {}});
    r.add({"BSZ", reg::BSZ, block_bytes, reg_access::ro, 1, 4, {}, {}});
    r.add({"MALFORMED", reg::MALFORMED, 0, reg_access::ro, 1, 4, {},
           [&fn](unsigned, uint32_t) { return static_cast<uint32_t>(fn.malformed); }});
    r.add({"DMAERR", reg::DMAERR, 0, reg_access::ro, 1, 4, {},
           [&fn](unsigned, uint32_t) { return static_cast<uint32_t>(fn.dma_errors); }});
    r.add({"BOUNDS", reg::BOUNDS, 0, reg_access::ro, 1, 4, {},
           [&fn](unsigned, uint32_t) { return static_cast<uint32_t>(fn.bounds_errors); }});

    auto q = [&fn](unsigned i) -> queue_pair& { return *fn.queues[i]; };
    auto add_q = [&](const char* name, uint32_t off, reg_file::write_hook w) {
        r.add({name, reg::Q0 + off, 0, reg_access::rw, nq, reg::Q_STRIDE, std::move(w), {}});
    };
    add_q("SQBAL", reg::SQBAL_OFF, [q](unsigned i, uint32_t, uint32_t v) { q(i).sq_base = set_lo(q(i).sq_base, v & ~0x3Fu); });
    add_q("SQBAH", reg::SQBAH_OFF, [q](unsigned i, uint32_t, uint32_t v) { q(i).sq_base = set_hi(q(i).sq_base, v); });
    add_q("SQSZ", reg::SQSZ_OFF, [q](unsigned i, uint32_t, uint32_t v) { q(i).sq_size = v; });
    add_q("CQBAL", reg::CQBAL_OFF, [q](unsigned i, uint32_t, uint32_t v) { q(i).cq_base = set_lo(q(i).cq_base, v & ~0xFu); });
    add_q("CQBAH", reg::CQBAH_OFF, [q](unsigned i, uint32_t, uint32_t v) { q(i).cq_base = set_hi(q(i).cq_base, v); });
    add_q("CQSZ", reg::CQSZ_OFF, [q](unsigned i, uint32_t, uint32_t v) { q(i).cq_size = v; });
    r.add({"QCTL", reg::Q0 + reg::QCTL_OFF, 0, reg_access::rw, nq, reg::Q_STRIDE,
           [this, q](unsigned i, uint32_t, uint32_t v) {
               queue_pair& p = q(i);
               const auto size_ok = [](uint32_t n) { return n >= reg::min_queue_entries && n <= max_queue_entries; };
               if ((v & reg::QCTL_EN) && !p.enabled()) {
                   if (!size_ok(p.sq_size) || !size_ok(p.cq_size) || p.sq_base == 0 || p.cq_base == 0) {
                       ++m_stats.mmio_errors;   // a pair with a bad geometry stays disabled
                       v &= ~reg::QCTL_EN;
                   }
                   p.sq_head = p.sq_tail = p.cq_head = p.cq_tail = 0;
                   p.phase = true;
                   p.tails.clear();
               }
               p.qctl = v;
           },
           [q](unsigned i, uint32_t) { return q(i).qctl; }});
    r.add({"SQTDBL", reg::DB0 + reg::SQTDBL_OFF, 0, reg_access::wo, nq, reg::DB_STRIDE,
           [this, q](unsigned i, uint32_t, uint32_t v) {
               queue_pair& p = q(i);
               if (!p.enabled() || v >= p.sq_size) {
                   ++m_stats.mmio_errors;
                   return;
               }
               p.tails.emplace_back(sc_time_stamp() + m_mmio_delay, v);
               m_doorbell.notify(m_mmio_delay);
           },
           {}});
    r.add({"CQHDBL", reg::DB0 + reg::CQHDBL_OFF, 0, reg_access::wo, nq, reg::DB_STRIDE,
           [this, q](unsigned i, uint32_t, uint32_t v) {
               queue_pair& p = q(i);
               if (!p.enabled() || v >= p.cq_size) {
                   ++m_stats.mmio_errors;
                   return;
               }
               p.cq_head = v;
               m_doorbell.notify(m_mmio_delay);
           },
           {}});
    const unsigned nv = static_cast<unsigned>(fn.msix.size());
    r.add({"MSIX", reg::MSIX0, 0, reg_access::rw, nv * 4, 4,
           [this, &fn](unsigned i, uint32_t, uint32_t v) {
               auto& e = fn.msix[i / 4];
               switch (i % 4) {
               case 0: e.addr_lo = v; break;
               case 1: e.addr_hi = v; break;
               case 2: e.data = v; break;
               default:
                   e.ctrl = v;
                   if (!(v & reg::MSIX_VECTOR_MASKED) && e.pending && m_powered) {
                       e.pending = false;
                       uint32_t data = e.data;
                       sc_time d = m_mmio_delay, busy;
                       transport(tlm::TLM_WRITE_COMMAND, fn.rid, (uint64_t(e.addr_hi) << 32) | e.addr_lo,
                                 reinterpret_cast<uint8_t*>(&data), 4, d, busy);
                   }
                   break;
               }
           },
           [&fn](unsigned i, uint32_t stored) { return i % 4 == 3 ? fn.msix[i / 4].ctrl : stored; }});
    if (fn.is_vsic)
        return;
    r.add({"VSICEN", reg::VSICEN0, 0, reg_access::rw, 2, 4,
           [this](unsigned i, uint32_t, uint32_t v) {
               m_vsic_enabled = i == 0 ? set_lo(m_vsic_enabled, v) : set_hi(m_vsic_enabled, v);
               m_doorbell.notify(m_mmio_delay);
           },
           {}});
    const unsigned entries = max_vsics * vsas_per_vsic;
    for (const auto& [name, off] : {std::pair{"VSA_BASE_LO", reg::VSA_BASE_LO_OFF}, {"VSA_BASE_HI", reg::VSA_BASE_HI_OFF},
                                    {"VSA_LEN_LO", reg::VSA_LEN_LO_OFF}, {"VSA_LEN_HI", reg::VSA_LEN_HI_OFF},
                                    {"VSA_CTL", reg::VSA_CTL_OFF}}) {
        const uint32_t field = off;
        r.add({name, reg::VSA0 + field, 0, reg_access::rw, entries, reg::VSA_STRIDE,
               [this, field](unsigned i, uint32_t, uint32_t v) { m_vsas.write_reg(i * reg::VSA_STRIDE + field, v); },
               {}});
    }
}

void storage_ctrl::bar_b_transport(tlm::tlm_generic_payload& trans, sc_time& delay)
{
    const uint64_t addr = trans.get_address();
    trans.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    if (trans.get_data_length() != 4 || trans.get_byte_enable_ptr() != nullptr) {
        ++m_stats.mmio_errors;
        return;
    }
    function* fn = nullptr;
    uint64_t off = 0;
    if (addr >= models::storage_pf_bar0 && addr < models::storage_pf_bar0 + models::storage_pf_bar0_size) {
        fn = m_functions[0].get();
        off = addr - models::storage_pf_bar0;
    } else if (addr >= models::storage_vsic_bar_base &&
               addr < models::storage_vsic_bar_base + m_params.num_vsics * models::storage_vsic_bar_stride) {
        const uint64_t rel = addr - models::storage_vsic_bar_base;
        fn = m_functions[1 + rel / models::storage_vsic_bar_stride].get();
        off = rel % models::storage_vsic_bar_stride;
    }
    if (fn == nullptr) {
        ++m_stats.mmio_errors;
        return;
    }
    m_mmio_delay = delay;
    uint32_t value = 0;
    bool ok;
    if (trans.is_write()) {
        std::memcpy(&value, trans.get_data_ptr(), 4);
        ok = fn->regs.write(static_cast<uint32_t>(off), value);
    } else {
        ok = fn->regs.read(static_cast<uint32_t>(off), value);
        if (ok && off >= reg::VSA0)
            ok = m_vsas.read_reg(static_cast<uint32_t>(off - reg::VSA0), value);
        std::memcpy(trans.get_data_ptr(), &value, 4);
    }
    if (!ok) {
        ++m_stats.mmio_errors;
        return;
    }
    trans.set_response_status(tlm::TLM_OK_RESPONSE);
}

tlm::tlm_response_status storage_ctrl::transport(tlm::tlm_command cmd, uint16_t rid, uint64_t addr, uint8_t* data,
                                                 size_t len, sc_time& delay, sc_time& busy)
{
    return m_dma.transport(dma, cmd, rid, addr, data, len, delay, busy);
}

storage_ctrl::queue_pair* storage_ctrl::next_queue()
{
    const unsigned n = static_cast<unsigned>(m_queues.size());
    for (unsigned k = 0; k < n; ++k) {
        const unsigned i = (m_rr + k) % n;
        queue_pair& q = *m_queues[i];
        if (!q.enabled() || q.sq_head == q.sq_tail || !(q.fn->cc & reg::CC_EN))
            continue;
        if (q.fn->is_vsic && !(m_vsic_enabled >> q.fn->vsic & 1))
            continue;
        m_rr = (i + 1) % n;
        return &q;
    }
    return nullptr;
}

void storage_ctrl::fetch_thread()
{
    for (;;) {
        if (!m_powered) {
            wait(m_power_on);
            continue;
        }
        // Doorbell writes become visible when they arrive.
        sc_time next_tail = SC_ZERO_TIME;
        for (auto& q : m_queues) {
            while (!q->tails.empty() && q->tails.front().first <= sc_time_stamp()) {
                q->sq_tail = q->tails.front().second;
                q->tails.pop_front();
            }
            if (!q->tails.empty() && (next_tail == SC_ZERO_TIME || q->tails.front().first < next_tail))
                next_tail = q->tails.front().first;
        }
        queue_pair* q = m_outstanding < m_params.max_outstanding ? next_queue() : nullptr;
        if (q) {
            admit(*q);
            continue;
        }
        if (next_tail != SC_ZERO_TIME)
            wait(next_tail - sc_time_stamp(), m_doorbell);
        else
            wait(m_doorbell);
    }
}

// Fetches the command at the head of `q`, checks it, brings a write's data in, and puts it in
// service; a command that fails completes at once with its status.
void storage_ctrl::admit(queue_pair& q)
{
    function& fn = *q.fn;
    const uint64_t epoch = m_epoch;
    const auto lost = [this, epoch] { return !m_powered || m_epoch != epoch; };   // power went meanwhile
    const sc_time began = sc_time_stamp();
    uint8_t raw[sqe_bytes];
    sc_time d = SC_ZERO_TIME, busy;
    const auto read_status = transport(tlm::TLM_READ_COMMAND, fn.rid, q.sq_base + uint64_t(q.sq_head) * sqe_bytes, raw,
                                       sqe_bytes, d, busy);
    wait(d);
    q.sq_head = (q.sq_head + 1) % q.sq_size;
    ++m_stats.fetched;
    if (lost())
        return;
    if (read_status != tlm::TLM_OK_RESPONSE) {
        // The command itself could not be read: no command id to answer; 0xFFFF says so.
        ++m_stats.dma_errors;
        ++fn.dma_errors;
        fail(q, 0xFFFF, status::data_transfer_error);
        return;
    }
    wait(m_params.cycle * (m_params.command_cycles + (fn.is_vsic ? m_params.vsic_cycles : 0)));
    if (lost())
        return;
    const sqe s = sqe::decode(raw);
    auto malformed = [&](status code) {
        ++m_stats.malformed;
        ++fn.malformed;
        fail(q, s.cid, code);
    };
    auto refused = [&](status code) {
        ++m_stats.bounds_errors;
        ++fn.bounds_errors;
        fail(q, s.cid, code);
    };
    const status format = check_format(raw, s, max_transfer_blocks);
    if (format != status::success)
        return malformed(format);
    auto c = std::make_unique<command>();
    c->q = &q;
    c->cmd = s;
    if (fn.is_vsic) {
        const vsa_translation t = m_vsas.translate(fn.vsic, s);
        if (t.code != status::success)
            return refused(t.code);
        c->phys_lba = t.phys_lba;
    } else {
        if (s.nsid != pf_nsid)
            return refused(status::invalid_namespace);
        c->phys_lba = s.slba;
    }
    if (s.op != opcode::flush && !range_within(c->phys_lba, s.nlb, m_params.capacity_blocks))
        return refused(status::lba_out_of_range);

    if (s.op != opcode::flush) {
        const uint64_t bytes = uint64_t(s.nlb) * block_bytes;
        auto read_list = [this, &fn](uint64_t iova, uint64_t* entries, unsigned count) {
            sc_time ld = SC_ZERO_TIME, lb;
            const bool ok = transport(tlm::TLM_READ_COMMAND, fn.rid, iova, reinterpret_cast<uint8_t*>(entries),
                                      count * 8, ld, lb) == tlm::TLM_OK_RESPONSE;
            wait(ld);
            return ok;
        };
        const status st = data_segments(s, bytes, read_list, c->segments);
        if (lost())
            return;
        if (st == status::invalid_field)
            return malformed(st);
        if (st != status::success) {
            ++m_stats.dma_errors;
            ++fn.dma_errors;
            return fail(q, s.cid, st);
        }
        c->data.resize(bytes);
        if (s.op == opcode::write) {
            // Split reads: each segment's request goes out as soon as the one before is on the link.
            sc_time issue = SC_ZERO_TIME, ready = SC_ZERO_TIME;
            bool ok = true;
            uint64_t at = 0;
            for (const dma_segment& seg : c->segments) {
                sc_time sd = issue, sb;
                ok = ok && transport(tlm::TLM_READ_COMMAND, fn.rid, seg.iova, c->data.data() + at, seg.bytes, sd, sb) ==
                               tlm::TLM_OK_RESPONSE;
                ready = std::max(ready, sd);
                issue += sb;
                at += seg.bytes;
            }
            wait(ready);
            if (lost())
                return;
            if (!ok) {
                ++m_stats.dma_errors;
                ++fn.dma_errors;
                return fail(q, s.cid, status::data_transfer_error);
            }
        }
    }
    // Service: the earliest free slot.
    auto slot = std::min_element(m_slot_free.begin(), m_slot_free.end());
    c->begin = std::max(sc_time_stamp(), *slot);
    c->end = c->begin + service_time(*c);
    *slot = c->end;
    if (trace::timeline* t = trace::active_timeline) {
        const uint64_t bytes = uint64_t(c->cmd.nlb) * block_bytes;
        t->slice(t->module_lane(name(), " fetch"), "fetch, check, data in", began, sc_time_stamp() - began, 0, bytes);
        static const char* const ops[] = {"flush", "write into the cache", "read"};
        t->slice(t->module_lane(name(), " slot " + std::to_string(slot - m_slot_free.begin())),
                 ops[static_cast<unsigned>(c->cmd.op)], c->begin, c->end - c->begin, 0, bytes);
    }
    const auto pos = std::upper_bound(m_in_service.begin(), m_in_service.end(), c->end,
                                      [](const sc_time& t, const std::unique_ptr<command>& x) { return t < x->end; });
    m_in_service.insert(pos, std::move(c));
    ++m_outstanding;
    m_serviced.notify(SC_ZERO_TIME);
}

// A command's own service time, drawn around `mean`: gamma-distributed (positive, skewed to the
// right as device latencies are) with the kind's coefficient of variation.
sc_time storage_ctrl::vary(const sc_time& mean)
{
    const double cv = m_params.timing.cv;
    if (cv <= 0 || mean == SC_ZERO_TIME)
        return mean;
    const double shape = 1.0 / (cv * cv);
    std::gamma_distribution<double> g(shape, mean.to_seconds() * 1e9 / shape);
    return sc_time(g(m_service_rng), SC_NS);
}

sc_time storage_ctrl::service_time(const command& c)
{
    const device_timing& t = m_params.timing;
    switch (c.cmd.op) {
    case opcode::write:
        ++m_stats.writes;
        return vary(t.write) + t.per_block * c.cmd.nlb;
    case opcode::read:
        ++m_stats.reads;
        if (m_cache.holds(c.phys_lba, c.cmd.nlb)) {
            ++m_stats.read_hits;
            return vary(t.read_hit) + t.per_block * c.cmd.nlb;
        }
        ++m_stats.read_misses;
        m_cache.insert(c.phys_lba, c.cmd.nlb);   // staged into the cache on its way to the host
        return vary(t.read_miss) + t.per_block * c.cmd.nlb;
    default:
        ++m_stats.flushes;
        return vary(t.flush);
    }
}

void storage_ctrl::complete_thread()
{
    for (;;) {
        if (!m_powered) {
            wait(m_power_on);
            continue;
        }
        if (m_in_service.empty()) {
            wait(m_serviced);
            continue;
        }
        if (m_in_service.front()->end > sc_time_stamp()) {
            wait(m_in_service.front()->end - sc_time_stamp(), m_serviced);
            continue;
        }
        std::unique_ptr<command> c = std::move(m_in_service.front());
        m_in_service.pop_front();
        finish(*c);
        --m_outstanding;
        m_doorbell.notify(SC_ZERO_TIME);
    }
}

void storage_ctrl::finish(command& c)
{
    queue_pair& q = *c.q;
    function& fn = *q.fn;
    status code = status::success;
    sc_time after = SC_ZERO_TIME;
    const uint64_t bytes = uint64_t(c.cmd.nlb) * block_bytes;
    if (c.cmd.op == opcode::write) {
        m_store.write(c.phys_lba, c.cmd.nlb, c.data.data());   // in the flash-backed cache: durable
        m_cache.insert(c.phys_lba, c.cmd.nlb);
        m_stats.bytes_written += bytes;
    } else if (c.cmd.op == opcode::read) {
        m_store.read(c.phys_lba, c.cmd.nlb, c.data.data());
        uint64_t at = 0;
        bool ok = true;
        for (const dma_segment& seg : c.segments) {
            sc_time sd = after, sb;
            ok = ok && transport(tlm::TLM_WRITE_COMMAND, fn.rid, seg.iova, c.data.data() + at, seg.bytes, sd, sb) ==
                           tlm::TLM_OK_RESPONSE;
            after += sb;
            at += seg.bytes;
        }
        if (ok) {
            m_stats.bytes_read += bytes;
        } else {
            ++m_stats.dma_errors;
            ++fn.dma_errors;
            code = status::data_transfer_error;
        }
    }
    post_completion(q, c.cmd.cid, code, after);
}

void storage_ctrl::fail(queue_pair& q, uint16_t cid, status code) { post_completion(q, cid, code, SC_ZERO_TIME); }

// Writes the completion entry `after` from now (behind the data it follows on the link) and
// signals the pair's vector. A full completion queue holds the device until software frees a slot.
void storage_ctrl::post_completion(queue_pair& q, uint16_t cid, status code, const sc_time& after)
{
    while (m_powered && q.enabled() && (q.cq_tail + 1) % q.cq_size == q.cq_head)
        wait(m_doorbell);
    if (!m_powered || !q.enabled())
        return;
    function& fn = *q.fn;
    cqe e;
    e.sq_head = static_cast<uint16_t>(q.sq_head);
    e.sq_id = q.id;
    e.cid = cid;
    e.code = code;
    e.phase = q.phase;
    uint8_t bytes[cqe_bytes];
    e.encode(bytes);
    sc_time d = after, busy;
    transport(tlm::TLM_WRITE_COMMAND, fn.rid, q.cq_base + uint64_t(q.cq_tail) * cqe_bytes, bytes, cqe_bytes, d, busy);
    q.cq_tail = (q.cq_tail + 1) % q.cq_size;
    if (q.cq_tail == 0)
        q.phase = !q.phase;
    ++m_stats.completed;
    if (!(q.qctl & reg::QCTL_IEN))
        return;
    const unsigned v = (q.qctl & reg::QCTL_IV_MASK) >> reg::QCTL_IV_SHIFT;
    if (v >= fn.msix.size())
        return;
    auto& vec = fn.msix[v];
    if (vec.ctrl & reg::MSIX_VECTOR_MASKED) {
        vec.pending = true;
        return;
    }
    uint32_t data = vec.data;
    sc_time md = after + busy, mb;
    transport(tlm::TLM_WRITE_COMMAND, fn.rid, (uint64_t(vec.addr_hi) << 32) | vec.addr_lo,
              reinterpret_cast<uint8_t*>(&data), 4, md, mb);
}

void storage_ctrl::power_fail_at(const sc_time& at)
{
    if (at < sc_time_stamp())
        throw std::invalid_argument("power loss in the past");
    m_power_event.notify(at - sc_time_stamp());
}

void storage_ctrl::power_off()
{
    if (!m_powered)
        return;
    const sc_time now = sc_time_stamp();
    std::mt19937_64 rng(m_params.torn_seed);
    for (const auto& c : m_in_service) {
        if (c->cmd.op != opcode::write || c->begin >= now)
            continue;
        const uint32_t n = c->cmd.nlb;
        if (c->end <= now) {
            m_store.write(c->phys_lba, n, c->data.data());   // done, its completion not yet posted
            continue;
        }
        // Blocks reach the cache one after another over the service time.
        const double passed = (now - c->begin) / (c->end - c->begin);
        uint32_t kept = 0;
        if (!m_params.torn_any_blocks) {
            kept = static_cast<uint32_t>(n * passed);
            if (kept > 0)
                m_store.write(c->phys_lba, kept, c->data.data());
        } else {
            std::bernoulli_distribution in_cache(passed);
            for (uint32_t b = 0; b < n; ++b) {
                if (in_cache(rng)) {
                    m_store.write(c->phys_lba + b, 1, c->data.data() + uint64_t(b) * block_bytes);
                    ++kept;
                }
            }
        }
        if (kept > 0 && kept < n)
            ++m_stats.torn_writes;
    }
    m_stats.lost_completions += m_in_service.size();
    m_in_service.clear();
    m_powered = false;
    ++m_epoch;
    m_doorbell.notify(SC_ZERO_TIME);
    m_serviced.notify(SC_ZERO_TIME);
}

} // namespace iovsim::storage

namespace iovsim::storage {

void storage_ctrl::power_restore()
{
    if (m_powered)
        return;
    // Registers come back at their reset values: the host programs the device again.
    for (auto& fn : m_functions) {
        fn->regs.reset();
        fn->cc = 0;
        for (auto& e : fn->msix)
            e = function::msix_entry{};
    }
    for (auto& q : m_queues) {
        q->sq_base = q->cq_base = 0;
        q->sq_size = q->cq_size = q->qctl = 0;
        q->sq_head = q->sq_tail = q->cq_head = q->cq_tail = 0;
        q->phase = true;
        q->tails.clear();
    }
    m_vsas.clear();
    m_vsic_enabled = 0;
    m_outstanding = 0;
    std::fill(m_slot_free.begin(), m_slot_free.end(), sc_time_stamp());
    m_powered = true;
    m_power_on.notify(SC_ZERO_TIME);
}

} // namespace iovsim::storage
