#include "os/net/stack.h"

#include "sim/fast_time.h"

namespace iovsim::os::net {

using namespace iovsim::wire;

net_stack::net_stack(cpu_core& core, mac_addr mac, ipv4_addr ip, const stack_costs& costs)
    : m_core(core), m_mac(mac), m_ip(ip), m_costs(costs)
{
}

void net_stack::set_interface(transmit_fn tx, release_fn release, alloc_fn alloc)
{
    m_tx = std::move(tx);
    m_release = std::move(release);
    m_alloc = std::move(alloc);
}

bool net_stack::bind_udp(uint16_t port, udp_input input)
{
    return m_udp_ports.emplace(port, std::move(input)).second;
}

void net_stack::drop(pkt& p, parse_error e)
{
    ++m_stats.rx_malformed;
    ++m_stats.errors[static_cast<size_t>(e)];
    m_release(p);
}

void net_stack::input(pkt& frame)
{
    ++m_stats.rx_frames;
    core().run(m_costs.in, *m_costs.eth_rx);
    const auto eth = parse_eth(frame.bytes(), frame.len);
    if (!eth)
        return drop(frame, eth.error());
    const eth_header& h = eth.header();
    if (h.dst != m_mac && !h.dst.is_broadcast()) {
        ++m_stats.rx_not_for_us;
        return m_release(frame);
    }
    frame.off += static_cast<uint32_t>(eth.payload_offset());
    frame.len = static_cast<uint32_t>(eth.payload_length());
    if (h.ethertype == eth_type::arp)
        return arp_input(frame);
    if (h.ethertype == eth_type::ipv4)
        return ipv4_input(frame);
    ++m_stats.rx_unknown_protocol;
    m_release(frame);
}

void net_stack::arp_input(pkt& frame)
{
    const auto arp = parse_arp(frame.bytes(), frame.len);
    if (!arp)
        return drop(frame, arp.error());
    const arp_packet& a = arp.header();
    m_arp[a.sender_ip] = a.sender_mac;
    // Frames that waited for this address go out now.
    auto waiting = m_arp_waiting.find(a.sender_ip);
    if (waiting != m_arp_waiting.end()) {
        std::deque<pkt> q = std::move(waiting->second);
        m_arp_waiting.erase(waiting);
        m_arp_asked.erase(a.sender_ip);
        for (pkt& p : q)
            eth_output(p, a.sender_mac, eth_type::ipv4);
    }
    if (a.op == arp_op::request && a.target_ip == m_ip) {
        ++m_stats.arp_replies;
        arp_packet reply{arp_op::reply, m_mac, m_ip, a.sender_mac, a.sender_ip};
        // Answer in the request's own buffer.
        frame.off = headroom;
        frame.len = static_cast<uint32_t>(build_arp(frame.bytes(), frame.capacity - frame.off, reply));
        eth_output(frame, a.sender_mac, eth_type::arp);
        return;
    }
    m_release(frame);
}

void net_stack::ipv4_input(pkt& frame)
{
    core().run(m_costs.in, *m_costs.ip_rx);
    const auto ip = parse_ipv4(frame.bytes(), frame.len, true);
    if (!ip)
        return drop(frame, ip.error());
    const ipv4_header& h = ip.header();
    if (h.dst != m_ip) {
        ++m_stats.rx_not_for_us;
        return m_release(frame);
    }
    frame.off += static_cast<uint32_t>(ip.payload_offset());
    frame.len = static_cast<uint32_t>(ip.payload_length());
    if (h.protocol == ip_proto::udp)
        return udp_in(frame, h);
    auto proto = m_protocols.find(h.protocol);
    if (proto == m_protocols.end()) {
        ++m_stats.rx_unknown_protocol;
        return m_release(frame);
    }
    proto->second(frame, h);
}

void net_stack::udp_in(pkt& p, const ipv4_header& ip)
{
    core().run(m_costs.in, *m_costs.udp_rx);
    const auto udp = parse_udp(p.bytes(), p.len, ip.src, ip.dst, true);
    if (!udp)
        return drop(p, udp.error());
    auto port = m_udp_ports.find(udp.header().dport);
    if (port == m_udp_ports.end()) {
        ++m_stats.rx_no_port;
        return m_release(p);
    }
    p.off += static_cast<uint32_t>(udp.payload_offset());
    p.len = static_cast<uint32_t>(udp.payload_length());
    ++m_stats.rx_delivered;
    port->second(p, udp_meta{ip.src, udp.header().sport, ip.dst, udp.header().dport});
}

// Checksums are computed here for a correct wire format; their cost is the NIC's (checksum
// offload, which both the Linux and the Arrakis drivers of the paper used), so no CPU time is
// charged for them.
bool net_stack::udp_output(pkt& p, uint16_t sport, ipv4_addr dst, uint16_t dport)
{
    core().run(m_costs.out, *m_costs.udp_tx);
    if (p.off < udp_header_len)
        return false;
    p.off -= udp_header_len;
    p.len += udp_header_len;
    udp_header h{sport, dport, static_cast<uint16_t>(p.len), 0};
    if (build_udp(p.bytes(), p.len, h, p.len - udp_header_len, m_ip, dst, true) == 0)
        return false;
    return ip_output(p, ip_proto::udp, dst);
}

bool net_stack::ip_output(pkt& p, uint8_t proto, ipv4_addr dst)
{
    core().run(m_costs.out, *m_costs.ip_tx);
    if (p.off < ipv4_min_header_len)
        return false;
    p.off -= ipv4_min_header_len;
    p.len += ipv4_min_header_len;
    ipv4_header h;
    h.total_length = static_cast<uint16_t>(p.len);
    h.id = m_ip_id++;
    h.dont_fragment = true;
    h.protocol = proto;
    h.src = m_ip;
    h.dst = dst;
    if (build_ipv4(p.bytes(), p.len, h) == 0)
        return false;
    auto mac = m_arp.find(dst);
    if (mac == m_arp.end()) {
        // Hold the datagram until the ARP reply (up to arp_queue_limit per destination, as
        // Linux's unres_qlen).
        auto& q = m_arp_waiting[dst];
        if (q.size() >= arp_queue_limit) {
            ++m_stats.tx_arp_dropped;
            m_release(p);
            return false;
        }
        ++m_stats.tx_arp_pending;
        q.push_back(p);
        // Ask when the first datagram queues, and again for a later one once a request has gone
        // unanswered for arp_retry_ns (Linux retrans_time_ms): a lost request or reply is retried
        // when the sender retransmits, not given up on.
        const uint64_t now = static_cast<uint64_t>(sim::time_to_ns(core().local_time()));
        auto asked = m_arp_asked.find(dst);
        if (q.size() == 1 || asked == m_arp_asked.end() || now - asked->second >= arp_retry_ns) {
            m_arp_asked[dst] = now;
            send_arp_request(dst);
        }
        return true;
    }
    return eth_output(p, mac->second, eth_type::ipv4);
}

bool net_stack::eth_output(pkt& p, mac_addr dst, uint16_t ethertype)
{
    core().run(m_costs.out, *m_costs.eth_tx);
    if (p.off < eth_header_len)
        return false;
    p.off -= eth_header_len;
    p.len += eth_header_len;
    eth_header h;
    h.dst = dst;
    h.src = m_mac;
    h.ethertype = ethertype;
    build_eth(p.bytes(), p.len, h);
    if (p.len < eth_min_frame_len) {
        const size_t padded = pad_frame(p.bytes(), p.len, p.capacity - p.off);
        if (padded != 0)
            p.len = static_cast<uint32_t>(padded);
    }
    ++m_stats.tx_frames;
    m_tx(p);
    return true;
}

void net_stack::send_arp_request(ipv4_addr target)
{
    pkt p;
    if (!m_alloc || !m_alloc(p))
        return;
    ++m_stats.arp_requests;
    arp_packet req{arp_op::request, m_mac, m_ip, mac_addr{}, target};
    p.off = headroom;
    p.len = static_cast<uint32_t>(build_arp(p.bytes(), p.capacity - p.off, req));
    eth_output(p, mac_addr::broadcast(), eth_type::arp);
}

} // namespace iovsim::os::net
