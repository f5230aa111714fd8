#include "os/dataplane/log_writer.h"

namespace iovsim::os::dataplane {

persistent_log::append_status log_writer::append(const uint8_t* data, uint32_t len, uint64_t& seq)
{
    const auto st = reserve(len, seq);
    if (st != persistent_log::append_status::ok)
        return st;
    fill(seq, data, len);
    return commit(seq);
}

void log_writer::charge_crc(uint64_t bytes)
{
    cpu_core& core = writer_core();
    const cost_model& c = core.costs();
    core.charge_ns(category::block_io, c.ns(c.crc_byte_cycles * static_cast<double>(bytes)));
}

persistent_log::append_status log_writer::reserve(uint32_t len, uint64_t& seq)
{
    cpu_core& core = writer_core();
    for (;;) {
        core.run(category::block_io, core.costs().a_log_append);
        const auto st = log().reserve(len, seq);
        if (st == persistent_log::append_status::ok) {
            charge_crc(sizeof(log_entry_header));   // the entry's CRC starts over its header
            return st;
        }
        if (st != persistent_log::append_status::full || !make_progress())
            return st;
    }
}

void log_writer::fill(uint64_t seq, const uint8_t* data, uint32_t len)
{
    log().fill(seq, data, len);
    // The record built in the log's image: copied there, checksummed as it goes.
    writer_core().copy(category::block_io, len);
    charge_crc(len);
}

persistent_log::append_status log_writer::commit(uint64_t seq)
{
    // Sealing: what fill did not fold yet, then the header's CRC field; the write is the carrier's,
    // charged where it issues it.
    const uint32_t rest = log().unfilled(seq);
    if (rest > 0)
        charge_crc(rest);
    return log().commit(seq);
}

} // namespace iovsim::os::dataplane
