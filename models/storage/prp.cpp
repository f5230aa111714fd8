#include "models/storage/prp.h"

#include <algorithm>

namespace iovsim::storage {

namespace {

void append(std::vector<dma_segment>& out, uint64_t iova, uint32_t bytes)
{
    if (!out.empty() && out.back().iova + out.back().bytes == iova)
        out.back().bytes += bytes;
    else
        out.push_back({iova, bytes});
}

} // namespace

status data_segments(const sqe& cmd, uint64_t bytes, const prp_list_reader& read_list, std::vector<dma_segment>& out)
{
    out.clear();
    if (bytes == 0)
        return status::success;
    if (cmd.prp1 == 0)
        return status::invalid_field;
    if (cmd.flags == SQE_DPTR_CONTIG) {
        // Split at page boundaries: the IOMMU translates per page, a segment need not.
        out.push_back({cmd.prp1, static_cast<uint32_t>(bytes)});
        return status::success;
    }
    if (cmd.flags != SQE_DPTR_PRP)
        return status::invalid_field;
    const uint64_t first = std::min<uint64_t>(bytes, page_bytes - cmd.prp1 % page_bytes);
    append(out, cmd.prp1, static_cast<uint32_t>(first));
    uint64_t left = bytes - first;
    if (left == 0)
        return status::success;
    if (cmd.prp2 == 0 || cmd.prp2 % 8)
        return status::invalid_field;
    if (left <= page_bytes) {
        if (cmd.prp2 % page_bytes)
            return status::invalid_field;
        append(out, cmd.prp2, static_cast<uint32_t>(left));
        return status::success;
    }
    // A PRP list: entries from prp2 to the end of its page; the last one chains when more remain.
    uint64_t list = cmd.prp2;
    constexpr unsigned per_page = page_bytes / 8;
    uint64_t entries[per_page];
    while (left > 0) {
        const unsigned room = static_cast<unsigned>((page_bytes - list % page_bytes) / 8);
        const uint64_t pages_left = (left + page_bytes - 1) / page_bytes;
        const bool chains = pages_left > room;
        const unsigned n = chains ? room : static_cast<unsigned>(pages_left);
        if (!read_list(list, entries, n))
            return status::data_transfer_error;
        const unsigned data_entries = chains ? n - 1 : n;
        for (unsigned i = 0; i < data_entries; ++i) {
            if (entries[i] == 0 || entries[i] % page_bytes)
                return status::invalid_field;
            const uint64_t take = std::min<uint64_t>(left, page_bytes);
            append(out, entries[i], static_cast<uint32_t>(take));
            left -= take;
        }
        if (chains) {
            list = entries[n - 1];
            if (list == 0 || list % 8)
                return status::invalid_field;
        }
    }
    return status::success;
}

} // namespace iovsim::storage
