#include "os/core/accounting.h"

namespace iovsim::os {

request_id accounting::open(row& carry)
{
    ++m_opened;
    for (unsigned k = 0; k < category_count; ++k)
        m_totals[k] += carry[k];
    if (!m_keep) {
        carry.fill(0.0);
        return m_opened;
    }
    m_rows.push_back(carry);
    m_closed.push_back(false);
    carry.fill(0.0);
    return m_rows.size();
}

void accounting::fold(request_id id, row& carry)
{
    if (id == no_request)
        return;
    ++m_folded;
    if (id > m_rows.size())
        return;   // not kept: its charges are already in the totals, where carried work ends up too
    row& r = m_rows[id - 1];
    for (unsigned k = 0; k < category_count; ++k) {
        carry[k] += r[k];
        m_totals[k] -= r[k];   // counted again when the carry joins the next request's row
        r[k] = 0.0;
    }
}

void accounting::merge(request_id from, request_id into)
{
    if (from == no_request || into == no_request || from == into)
        return;
    ++m_folded;
    if (from > m_rows.size() || into > m_rows.size())
        return;   // not kept: the totals already hold both
    row& f = m_rows[from - 1];
    row& t = m_rows[into - 1];
    for (unsigned k = 0; k < category_count; ++k) {
        t[k] += f[k];
        f[k] = 0.0;
    }
}

void accounting::charge(request_id id, category c, double ns)
{
    if (id != no_request)
        m_totals[static_cast<unsigned>(c)] += ns;
    row& r = (id == no_request || id > m_rows.size()) ? m_none : m_rows[id - 1];
    r[static_cast<unsigned>(c)] += ns;
}

} // namespace iovsim::os
