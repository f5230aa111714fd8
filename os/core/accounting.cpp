#include "os/core/accounting.h"

namespace iovsim::os {

request_id accounting::open(row& carry)
{
    m_rows.push_back(carry);
    m_closed.push_back(false);
    carry.fill(0.0);
    return m_rows.size();
}

void accounting::charge(request_id id, category c, double ns)
{
    row& r = (id == no_request || id > m_rows.size()) ? m_none : m_rows[id - 1];
    r[static_cast<unsigned>(c)] += ns;
}

} // namespace iovsim::os
