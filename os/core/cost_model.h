#pragma once
// The software cost model (DESIGN.md rule 3): the cost of each operation the simulated software
// performs, as primitives from the platform config. A code path costs its cycles at the core's
// clock, plus, when the core's caches are cold (after idle or an address-space switch), one
// cold-line penalty per cache line of its footprint. Memory the CPU touches after a device wrote it
// costs per line by where the line is: in the LLC (DCA) or in DRAM. Application code runs slower
// the first time it runs after a return from the kernel (syscall_pollution).
//
// No primitive is a cell of a paper's table; each is the cost of one operation, and its provenance
// is stated where it is declared (os/core/cost_model.cpp) and in the platform file.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace iovsim::cfg {
class schema;
class config;
}

namespace iovsim::os {

constexpr unsigned cache_line_bytes = 64;
// Cache lines a buffer of `bytes` covers (from a line boundary).
constexpr unsigned lines_of(size_t bytes) { return static_cast<unsigned>((bytes + cache_line_bytes - 1) / cache_line_bytes); }

struct primitive {
    double cycles = 0;       // instructions' time at the core clock, caches warm
    unsigned lines = 0;      // code and data footprint, paid per line when the caches are cold
    unsigned id = 0;         // index for the per-core warmth tracking
    bool process_context = false;  // touches the process's address space (user pages, its mm):
                                   // loses its warmth when the core switches in after a deep idle
    bool user_code = false;        // the application's own code, in user mode: slowed after a
                                   // return from the kernel (syscall_pollution)
    bool returns_to_user = false;  // ends in a return to user mode (SYSRET, IRET)
};

// When state was last touched, for cpu_core::touch_resident: the core's count of lines brought into
// the LLC at that time.
struct llc_stamp {
    double fills = -1;   // < 0: never touched
};

struct cost_model {
    // CPU and memory hierarchy
    double freq_ghz = 2.2;
    double cold_line_ns = 0;        // one footprint line missing in L1/L2 and the TLB
    double dram_line_ns = 0;        // a dependent load of a DMA'd line from DRAM (descriptor, header)
    double dram_stream_line_ns = 0; // a sequential DMA'd line from DRAM, prefetcher running (copies)
    double llc_line_ns = 0;         // a DMA'd line placed in the LLC by DCA
    double mmio_write_ns = 0;       // posted uncached store to a device register
    double copy_call_cycles = 0;
    double copy_byte_cycles = 0;
    double idle_exit_ns = 0;        // C-state exit: from the interrupt to the first instruction
    double cold_after_idle_ns = 0;  // an idle period longer than this leaves the caches cold
    double syscall_pollution = 0;   // user code's slow-down right after a return from the kernel
    double syscall_pollution_cycles = 0;   // user cycles over which it fades out
    double c2c_line_ns = 0;         // a line another core modified (a descriptor or doorbell it wrote)
    double c2c_stream_line_ns = 0;  // each further line of a buffer another core wrote, read in sequence
                                    // (prefetched: the copy loop's own cost is copy_byte_cycles)
    double llc_mb = 0;              // last-level cache: what state left alone stays resident against
    // Per-connection state that only the LLC can hold between a connection's turns (cpu_core's
    // touch_resident): the lines of it each path touches.
    double l_sock_tx_lines = 0;     // Linux: tcp_sock's send side (tcp_sendmsg, tcp_clean_rtx_queue)
    double l_sock_rx_lines = 0;     // Linux: tcp_sock's receive side (tcp_rcv_established, tcp_recvmsg)
    double l_epitem_lines = 0;      // Linux: the epitem, the file and tcp_poll's fields
    double a_pcb_tx_lines = 0;      // Arrakis/P: the library's PCB, send side
    double a_pcb_rx_lines = 0;      // Arrakis/P: the library's PCB, receive side

    // Linux-like kernel path
    primitive l_irq_entry, l_irq_exit, l_napi_poll, l_rx_desc, l_rx_refill, l_skb_alloc, l_eth_rx,
        l_ip_rx, l_udp_rx, l_sock_enqueue, l_wake_running, l_wake_sleeping, l_schedule,
        l_context_switch, l_nohz_exit, l_syscall_entry, l_syscall_exit, l_sock_dequeue, l_skb_free,
        l_udp_tx, l_ip_tx, l_dev_xmit, l_tx_desc, l_tx_clean, l_block, l_copy_user;
    // Linux queueing discipline (HTB on the device, os/linux/htb.h)
    primitive l_qdisc_enqueue, l_qdisc_dequeue, l_qdisc_lock_bounce, l_qdisc_watchdog;
    // Arrakis dataplane (user-level VF driver and stack)
    primitive a_poll_empty, a_rx_desc, a_rx_refill, a_eth_rx, a_ip_rx, a_udp_rx, a_posix_recv,
        a_posix_send, a_native_recv, a_native_send, a_udp_tx, a_ip_tx, a_eth_tx, a_tx_desc,
        a_tx_clean;
    // The emulated VSIC core (os/kernel/vsic_emulator)
    primitive s_vsic_poll, s_vsic_command, s_vsic_complete;
    // Arrakis dataplane under the control plane's policies
    primitive a_sw_demux;
    // Applications
    primitive app_echo;
    // Linux-like storage path: VFS and file systems (os/linux/fs), block layer and driver
    primitive fs_vfs_write, fs_vfs_fsync, fs_page_cache, fs_write_end, fs_block_alloc, fs_inode_dirty,
        fs_writepage, fs_write_inode, fs_jbd_handle, fs_jbd_dirty, fs_jbd_commit, fs_jbd_block, fs_jbd_checkpoint,
        fs_ext4_da_reserve, fs_ext4_mballoc, fs_ext4_extent, fs_btrfs_write, fs_btrfs_alloc_extent, fs_btrfs_csum,
        fs_btrfs_ordered, fs_btrfs_log_inode, fs_btrfs_tree_cow, fs_btrfs_sync_log, l_blk_submit, l_blk_complete,
        l_fsync_syscall;
    // Arrakis storage dataplane (user-level VSIC driver, persistent log)
    primitive a_blk_submit, a_blk_reap, a_log_append;
    // Linux-like direct I/O to a raw block device (os/linux/direct_io: pwrite with O_DIRECT|O_DSYNC)
    primitive l_dio_setup, l_dio_page, l_dio_bio, l_dio_complete, l_dio_dsync;
    double crc_byte_cycles = 0;     // CRC-32C of a warm buffer, per byte (SSE4.2 crc32)
    double csum_byte_cycles = 0;    // Internet checksum of a warm buffer, per byte
    // TCP protocol processing (os/net/tcp): the Linux kernel's and the Arrakis library's
    primitive l_tcp_rx, l_tcp_tx, l_tcp_ack, l_tcp_timer, a_tcp_rx, a_tcp_tx, a_tcp_ack, a_tcp_timer;
    // memcached-like server (workloads/memcached)
    primitive mc_parse, mc_lookup, mc_store, mc_prepare;
    // Stream sockets and epoll: the Linux-like kernel's system calls (os/linux) and Arrakis/P's
    // emulation of the same calls (os/dataplane/posix_sockets)
    primitive l_socket, l_sock_call, l_accept, l_sock_close, l_tcp_recvmsg, l_tcp_sendmsg, l_epoll_ctl,
        l_epoll_ctl_mod, l_epoll_wait, l_ep_poll_callback, l_ep_scan;
    primitive a_socket, a_accept, a_sock_close, a_tcp_recv, a_tcp_send, a_epoll_ctl, a_epoll_wait, a_epoll_scan;
    // Redis-like server (workloads/redis)
    primitive rd_parse, rd_parse_arg, rd_lookup, rd_set, rd_del, rd_log_marshal, rd_prepare, rd_reply_bulk, rd_aof_flush,
        rd_loop, rd_event, rd_accept, rd_client;

    double ns(double cycles) const { return cycles / freq_ghz; }

    // Declares every primitive with its default and provenance, under "platform.cost.".
    static void declare(cfg::schema& s);
    static cost_model from(const cfg::config& c);
    // Number of primitives (for warmth bitsets).
    static unsigned primitive_count();
};

} // namespace iovsim::os
