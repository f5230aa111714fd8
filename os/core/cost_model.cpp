// The cost primitives, one table: key, default, and where the value comes from. The platform file
// (configs/platforms/) repeats each with its provenance; this table is what the schema declares.
//
// "Calibrated" means: chosen, within the range the cited measurements allow, so that the simulated
// paths reproduce the Arrakis paper's per-layer measurements (reference/arrakis.md, Table 1) when the
// code runs; the table's cells themselves are never used by the model.
#include "os/core/cost_model.h"

#include <string>

#include "sim/config.h"

namespace iovsim::os {
namespace {

struct scalar_def {
    const char* key;
    double cost_model::*member;
    double def, min, max;
    const char* unit;
    const char* help;
};

const scalar_def scalars[] = {
    {"cpu.freq_ghz", &cost_model::freq_ghz, 2.2, 0.1, 10, "GHz", "Xeon E5-2430 nominal clock (Intel ARK)"},
    {"mem.cold_line_ns", &cost_model::cold_line_ns, 25, 0, 1000, "ns",
     "L2 miss served by the LLC plus a share of a TLB refill: ~26-31 cycles LLC (Intel SNB optimization manual 2.2.5) + page walk"},
    {"mem.dram_line_ns", &cost_model::dram_line_ns, 80, 0, 1000, "ns",
     "dependent load from local DRAM on Sandy Bridge-EP: ~80-90 ns (Molka et al., 'Main memory and cache performance of Intel Sandy Bridge', 2014)"},
    {"mem.dram_stream_line_ns", &cost_model::dram_stream_line_ns, 20, 0, 1000, "ns",
     "sequential DRAM lines with the L2 streamer prefetching: ~3.2 GB/s per copy loop (single-thread read bandwidth, same source)"},
    {"mem.llc_line_ns", &cost_model::llc_line_ns, 12, 0, 1000, "ns",
     "LLC hit on a line placed there by DCA: ~26-31 cycles at 2.2 GHz (Intel SNB optimization manual 2.2.5)"},
    {"mem.mmio_write_ns", &cost_model::mmio_write_ns, 50, 0, 10000, "ns",
     "uncached posted store to a PCIe BAR: ~110 cycles to drain from the store buffer (calibrated; cf. Neugebauer et al., SIGCOMM 2018)"},
    {"mem.copy_call_cycles", &cost_model::copy_call_cycles, 40, 0, 100000, "cycles",
     "memcpy/copy_*_user call and setup (calibrated with copy_byte_cycles to Table 1 copy-in rows)"},
    {"mem.copy_byte_cycles", &cost_model::copy_byte_cycles, 0.51, 0, 100, "cycles/B",
     "copy of a warm 1 KB buffer: ~2 B/cycle with per-page user-access checks (calibrated: copy-in 0.24-0.27 us per 1 KB)"},
    {"cpu.idle_exit_ns", &cost_model::idle_exit_ns, 900, 0, 1e6, "ns",
     "C1 exit latency: intel_idle snb_cstates lists 2 us worst case; ~0.9 us typical (calibrated to Table 1 'CPU idle')"},
    {"mem.csum_byte_cycles", &cost_model::csum_byte_cycles, 0.25, 0, 100, "cycles/B",
     "Internet checksum (RFC 1071 ones' complement sum) in software: one 8-byte add-with-carry per word, ADC r64 latency 2 cycles on Sandy Bridge (Agner Fog's instruction tables)"},
    {"mem.crc_byte_cycles", &cost_model::crc_byte_cycles, 0.375, 0, 100, "cycles/B",
     "CRC-32C with the SSE4.2 crc32 instruction: 8 bytes per 3-cycle latency (Intel SNB optimization manual, CRC32 r64 latency 3)"},
    {"cpu.cold_after_idle_ns", &cost_model::cold_after_idle_ns, 2000, 0, 1e9, "ns",
     "idle longer than this: the idle path and C-state entry evict the process-context working set (model assumption, calibrated to the paper's +0.6 us)"},
    {"cpu.syscall_pollution", &cost_model::syscall_pollution, 0.3, 0, 10, "",
     "user code's slow-down right after a return from the kernel, as a share of its cycles: the kernel's code and data evicted the application's from the L1 caches, TLBs and branch predictors (FlexSC, Soares & Stumm, OSDI 2010: user-mode IPC falls by up to about half after a system call); calibrated against Arrakis Table 2's read parse, the same code taking 0.85 us on Linux and 0.66 us on Arrakis/P, which makes no system call"},
    {"cpu.syscall_pollution_cycles", &cost_model::syscall_pollution_cycles, 10000, 1, 1e9, "cycles",
     "user cycles after the return over which that slow-down fades out, linearly (FlexSC: user-mode IPC takes thousands of cycles to recover; estimate)"},
    {"mem.c2c_line_ns", &cost_model::c2c_line_ns, 60, 0, 1000, "ns",
     "load of a line modified in another core's private cache, same socket (snoop and transfer through the LLC): ~50-70 ns on SNB-EP (Molka et al. 2014; estimate)"},
    {"mem.c2c_stream_line_ns", &cost_model::c2c_stream_line_ns, 10, 0, 1000, "ns",
     "each further line of a buffer another core wrote, read in order: the L2 streamer overlaps the transfers; what is left beyond the copy loop (estimate)"},
    {"mem.llc_mb", &cost_model::llc_mb, 15, 0.1, 1024, "MB",
     "last-level cache of the Xeon E5-2430: 15 MB, shared by its six cores (Intel ARK)"},
    {"linux.sock_tx_lines", &cost_model::l_sock_tx_lines, 13, 0, 1000, "lines",
     "lines of one socket's send-side state a send or an ACK touches: tcp_sock's write queue, sequence, window and congestion fields, the skb at the queue's head (struct tcp_sock is ~1.7 KB in 3.8; calibrated against Table 2's linux_write send, 5.06 us, whose sockets wait a whole round of 1,600 durable SETs between replies)"},
    {"linux.sock_rx_lines", &cost_model::l_sock_rx_lines, 3, 0, 1000, "lines",
     "lines of one socket's receive-side state a segment's input or a recv touches: rcv_nxt and copied_seq, the receive queue, sk_rcvbuf accounting, the socket lock (estimate)"},
    {"linux.epitem_lines", &cost_model::l_epitem_lines, 4, 0, 1000, "lines",
     "lines of one watched socket an epoll report or epoll_ctl touches: the epitem (rbtree node, ready link, event), the struct file and the sock fields tcp_poll reads (estimate)"},
    {"arrakis.pcb_tx_lines", &cost_model::a_pcb_tx_lines, 1, 0, 1000, "lines",
     "lines of the library's per-connection send state a send or an ACK touches: lwIP's tcp_pcb send fields and its unacked queue head (the PCB is ~200 B; estimate)"},
    {"arrakis.pcb_rx_lines", &cost_model::a_pcb_rx_lines, 1, 0, 1000, "lines",
     "lines of the library's per-connection receive state a segment's input or a recv touches: tcp_pcb receive fields and the receive queue (estimate)"},
};

struct prim_def {
    const char* key;
    primitive cost_model::*member;
    double cycles;
    unsigned lines;
    const char* help;
    unsigned flags = 0;
};
// prim_def flags: see primitive's members of the same names.
constexpr unsigned proc = 1;      // process_context
constexpr unsigned user = 2;      // user_code
constexpr unsigned to_user = 4;   // returns_to_user

// Linux 3.8 code paths: cycles calibrated so the stack reproduces Table 1's per-layer times; the
// footprints (lines) are sized after the functions' code and data (objdump sizes of the 3.8 paths
// ~1-4 KB each) and calibrated to the 'CPU idle' column's slow-down.
const prim_def prims[] = {
    {"linux.irq_entry", &cost_model::l_irq_entry, 200, 4, "do_IRQ entry, APIC ack, irq_enter: ~120 ns (calibrated)"},
    {"linux.irq_exit", &cost_model::l_irq_exit, 120, 2, "irq_exit and return from interrupt (calibrated)", to_user},
    {"linux.napi_poll", &cost_model::l_napi_poll, 170, 4, "raise NET_RX softirq, net_rx_action, ixgbe_poll entry/exit, napi_complete (calibrated)"},
    {"linux.rx_desc", &cost_model::l_rx_desc, 80, 1, "ixgbe_clean_rx_irq per descriptor: status check, length, DMA unmap (calibrated)"},
    {"linux.rx_refill", &cost_model::l_rx_refill, 90, 1, "ixgbe_alloc_rx_buffers per buffer: page reuse, descriptor write (calibrated)"},
    {"linux.skb_alloc", &cost_model::l_skb_alloc, 300, 3, "build_skb / __netdev_alloc_skb from the slab, skb init (calibrated)"},
    {"linux.eth_rx", &cost_model::l_eth_rx, 120, 1, "eth_type_trans, GRO receive, netif_receive_skb dispatch (calibrated)"},
    {"linux.ip_rx", &cost_model::l_ip_rx, 420, 5, "ip_rcv: header checks, netfilter PRE_ROUTING/LOCAL_IN hooks, route lookup, ip_local_deliver (calibrated)"},
    {"linux.udp_rx", &cost_model::l_udp_rx, 300, 3, "udp_rcv: checksum, socket hash lookup, __udp_queue_rcv_skb (calibrated)"},
    {"linux.sock_enqueue", &cost_model::l_sock_enqueue, 250, 2, "sock_queue_rcv_skb: memory accounting, socket lock, sk_data_ready (calibrated)"},
    {"linux.wake_running", &cost_model::l_wake_running, 370, 2, "__wake_up_sync_key finding the receiver running: ttwu fast path, rq lock (calibrated)"},
    {"linux.wake_sleeping", &cost_model::l_wake_sleeping, 600, 4, "try_to_wake_up of a sleeping task: enqueue_task, check_preempt (calibrated)"},
    {"linux.schedule", &cost_model::l_schedule, 300, 4, "__schedule: pick_next_task_fair, put_prev_task (calibrated)", proc},
    {"linux.context_switch", &cost_model::l_context_switch, 700, 6, "context_switch: switch_mm (CR3 write), switch_to, FPU state (calibrated)", proc},
    {"linux.nohz_exit", &cost_model::l_nohz_exit, 500, 4, "tick_nohz_idle_exit: restart the tick, account idle time (calibrated)", proc},
    {"linux.block", &cost_model::l_block, 400, 3, "prepare_to_wait, schedule out of the receiving task (calibrated)"},
    {"linux.syscall_entry", &cost_model::l_syscall_entry, 110, 1, "SYSCALL entry, register save, dispatch: ~50 ns (Soares & Stumm, FlexSC, OSDI 2010: ~100+ cycles)", proc},
    {"linux.syscall_exit", &cost_model::l_syscall_exit, 110, 4, "return path, signal/resched checks, SYSRET (calibrated, as entry)", proc | to_user},
    {"linux.sock_dequeue", &cost_model::l_sock_dequeue, 250, 2, "skb_recv_datagram: socket lock, queue unlink, address copy (calibrated)"},
    {"linux.skb_free", &cost_model::l_skb_free, 200, 2, "skb_free_datagram, kfree_skb, slab free (calibrated)"},
    {"linux.udp_tx", &cost_model::l_udp_tx, 520, 4, "udp_sendmsg: socket lock, route lookup (cached), ip_make_skb, UDP header and checksum (calibrated)", proc},
    {"linux.ip_tx", &cost_model::l_ip_tx, 560, 5, "ip_local_out/ip_output: netfilter LOCAL_OUT/POST_ROUTING, neighbour output (calibrated)", proc},
    {"linux.dev_xmit", &cost_model::l_dev_xmit, 420, 4, "dev_queue_xmit: qdisc enqueue/dequeue, txq lock, ixgbe_xmit_frame entry (calibrated)", proc},
    {"linux.tx_desc", &cost_model::l_tx_desc, 120, 1, "ixgbe_tx_map: DMA map, descriptor write (calibrated)", proc},
    {"linux.copy_user", &cost_model::l_copy_user, 0, 4, "copy_to_user/copy_from_user: the user buffer's pages and the copy loop (footprint only; the copy is priced per byte)", proc},
    {"linux.tx_clean", &cost_model::l_tx_clean, 260, 2, "ixgbe_clean_tx_irq per descriptor: DD check, unmap, dev_kfree_skb (calibrated)"},
    // An HTB root qdisc on the device (Linux 3.8 net/sched/sch_htb.c), on top of dev_xmit's own
    // default-qdisc work. Estimates from the code paths.
    {"linux.qdisc_enqueue", &cost_model::l_qdisc_enqueue, 250, 2,
     "htb_enqueue: tc filter classification (u32 match on the source port), class lookup, queue the skb (estimate)", proc},
    {"linux.qdisc_dequeue", &cost_model::l_qdisc_dequeue, 200, 2,
     "htb_dequeue per call: class tree walk, token update (psched time), dequeue or find the next event (estimate)", proc},
    {"linux.qdisc_lock_bounce", &cost_model::l_qdisc_lock_bounce, 220, 0,
     "the root qdisc lock's cache line fetched from another core: ~100 ns cross-core transfer on SNB-EP (Molka et al. 2014)"},
    {"linux.qdisc_watchdog", &cost_model::l_qdisc_watchdog, 400, 3,
     "qdisc_watchdog hrtimer expiry, __netif_schedule, raise and run NET_TX softirq (net_tx_action) (estimate)"},
    // Arrakis dataplane: the user-level VF driver and stack (lwIP-derived in the paper).
    {"arrakis.poll_empty", &cost_model::a_poll_empty, 20, 0, "one iteration of the receive poll loop finding no packet"},
    {"arrakis.rx_desc", &cost_model::a_rx_desc, 10, 0, "VF driver: descriptor status and length (the line itself is charged as a DMA'd line)"},
    {"arrakis.rx_refill", &cost_model::a_rx_refill, 15, 0, "VF driver: return a buffer to the receive ring"},
    {"arrakis.eth_rx", &cost_model::a_eth_rx, 10, 0, "user stack: Ethernet demultiplexing"},
    {"arrakis.ip_rx", &cost_model::a_ip_rx, 20, 0, "user stack: IPv4 header checks"},
    {"arrakis.udp_rx", &cost_model::a_udp_rx, 15, 0, "user stack: UDP port demultiplexing"},
    {"arrakis.posix_recv", &cost_model::a_posix_recv, 230, 0, "Arrakis/P recvfrom: socket emulation, buffer queue and descriptor bookkeeping (calibrated)"},
    {"arrakis.posix_send", &cost_model::a_posix_send, 220, 0, "Arrakis/P sendto: socket emulation, buffer allocation (calibrated)"},
    {"arrakis.native_recv", &cost_model::a_native_recv, 13, 0, "Arrakis/N: hand the buffer to the application's receive handler"},
    {"arrakis.native_send", &cost_model::a_native_send, 10, 0, "Arrakis/N: accept a buffer for transmission"},
    {"arrakis.udp_tx", &cost_model::a_udp_tx, 15, 0, "user stack: UDP header"},
    {"arrakis.ip_tx", &cost_model::a_ip_tx, 20, 0, "user stack: IPv4 header and header checksum"},
    {"arrakis.eth_tx", &cost_model::a_eth_tx, 10, 0, "user stack: Ethernet header from the ARP cache"},
    {"arrakis.tx_desc", &cost_model::a_tx_desc, 20, 0, "VF driver: write a transmit descriptor"},
    {"arrakis.tx_clean", &cost_model::a_tx_clean, 10, 0, "VF driver: reclaim a sent buffer (the DD line is charged as a DMA'd line)"},
    // The emulated VSIC core (estimates: instruction counts of the code paths at ~1 instruction per
    // cycle; no paper's figure is used).
    {"vsic.poll", &cost_model::s_vsic_poll, 60, 0, "emulated VSIC core: one pass over the enabled VSICs' doorbells and the controller's completion ring finding nothing (estimate)"},
    {"vsic.command", &cost_model::s_vsic_command, 350, 2, "emulated VSIC core, per command: decode, VSA table lookup, bounds and rights check, LBA translation, physical command built, outstanding-command table entry (~350 instructions; estimate)"},
    {"vsic.complete", &cost_model::s_vsic_complete, 200, 1, "emulated VSIC core, per completion: match the controller's completion to the VSIC command, write the VSIC's completion, free the entry (~200 instructions; estimate)"},
    {"arrakis.sw_demux", &cost_model::a_sw_demux, 40, 1,
     "software demultiplexing once the NIC's 5-tuple filters are used up: a frame's header against the VNIC's filter list (estimate)"},
    // TCP (os/net/tcp), per segment, without the IP/Ethernet layers the stack charges itself and
    // without the user copies the socket layers charge. Linux 3.x figures are estimates from the
    // code paths' lengths (tcp_v4_rcv + tcp_rcv_established fast path ~1500-2500 cycles;
    // tcp_write_xmit + tcp_transmit_skb ~1500, tcp_sendmsg's own work being the socket layer's).
    // The Arrakis library's lwIP-like TCP is leaner by about the ratio of Table 1's Arrakis to
    // Linux network stack rows (0.21/1.26 in, 0.17/1.05 out: ~0.2). To be calibrated against
    // Table 2 with the socket layers.
    {"linux.tcp_rx", &cost_model::l_tcp_rx, 2750, 6, "tcp_v4_rcv: socket lookup, tcp_rcv_established fast path, ACK processing, queue to the socket (estimate 1800; calibrated against Table 2's linux_read epoll row, 2.42 us, where the receive path's interrupt work is timed)"},
    {"linux.tcp_tx", &cost_model::l_tcp_tx, 1500, 5, "tcp_write_xmit + tcp_transmit_skb: cwnd/window tests, skb clone, header and options (estimate)"},
    {"linux.tcp_ack", &cost_model::l_tcp_ack, 900, 4, "tcp_v4_rcv for a segment without data: tcp_ack, tcp_clean_rtx_queue, RTT and cwnd update (estimate)"},
    {"linux.tcp_timer", &cost_model::l_tcp_timer, 600, 3, "a TCP timer's expiry: tcp_write_timer / tcp_delack_timer handler and the socket lock (estimate)"},
    {"arrakis.tcp_rx", &cost_model::a_tcp_rx, 1900, 0, "user-level TCP input of a data segment: PCB demultiplexing, sequence checks, ACK processing (freeing acknowledged send data), queueing to the socket (calibrated against Table 2's arrakis_read epoll row, where Arrakis/P receives: 360 as first estimated left it at 0.41 us of 1.12)"},
    {"arrakis.tcp_tx", &cost_model::a_tcp_tx, 150, 0, "user-level TCP output: window tests, header and options (estimate 300, Linux x 0.2 by Table 1's ratio; calibrated with arrakis.tcp_send against Table 2's Arrakis/P send rows: 0.33 us for a 5-byte reply, 0.71 us for 1 KB, the checksum and the copy being charged per byte)"},
    {"arrakis.tcp_ack", &cost_model::a_tcp_ack, 180, 0, "user-level TCP, a segment without data: ACK processing only (estimate: Linux x 0.2)"},
    {"arrakis.tcp_timer", &cost_model::a_tcp_timer, 120, 0, "user-level TCP, one timer expiry's handling (estimate: Linux x 0.2)"},
    {"app.echo", &cost_model::app_echo, 20, 0, "UDP echo server: loop and reply setup", proc | user},
    // Linux 3.8 storage path. "Calibrated": cycles chosen so that write() and fsync() on the four
    // file systems over the RAM-disk controller reproduce Arrakis Fig. 2 per operation, the device
    // time coming from the controller model; each is the cost of one kernel function's work. All
    // run in process context (the caller's system call, or the journal's kernel thread), so a deep
    // idle leaves them cold, as it does the send path; Fig. 2's loop polls the RAM disk and never
    // idles, and its hand-offs to the journal thread keep the address space (lazy TLB). The footprints of the write(2) path (vfs_write, page_cache, write_end, inode_dirty,
    // jbd_handle, jbd_dirty) are calibrated against Arrakis Table 2's linux_write write row
    // (6.33 us, 1.6 times Fig. 2's warm 4.04: Redis writes after each fsync's sleep).
    {"linux.fsync_syscall", &cost_model::l_fsync_syscall, 150, 2, "fdget, file->f_op->fsync dispatch, i_mutex (calibrated)", proc},
    {"fs.vfs_write", &cost_model::fs_vfs_write, 700, 24, "vfs_write: rw_verify_area, security_file_permission, generic_write_checks, file_update_time (calibrated)", proc},
    {"fs.vfs_fsync", &cost_model::fs_vfs_fsync, 200, 3, "vfs_fsync_range, filemap_write_and_wait_range setup (calibrated)", proc},
    {"fs.page_cache", &cost_model::fs_page_cache, 400, 20, "grab_cache_page_write_begin: radix-tree lookup, page lock, buffers (calibrated)", proc},
    {"fs.write_end", &cost_model::fs_write_end, 300, 16, "block_write_end / generic_write_end: buffers and page dirty, i_size (calibrated)", proc},
    {"fs.block_alloc", &cost_model::fs_block_alloc, 1900, 6, "ext2/ext3 new block: bitmap buffer search and set, group descriptor counts, quota (calibrated)", proc},
    {"fs.inode_dirty", &cost_model::fs_inode_dirty, 300, 18, "mark_inode_dirty: inode on the dirty list (calibrated)", proc},
    {"fs.writepage", &cost_model::fs_writepage, 350, 3, "write_cache_pages per page: clear dirty, set writeback, map buffers, build the bio (calibrated)", proc},
    {"fs.write_inode", &cost_model::fs_write_inode, 300, 2, "ext2_write_inode / ext4_do_update_inode: raw inode into its table buffer (calibrated)", proc},
    {"fs.jbd_handle", &cost_model::fs_jbd_handle, 2800, 24, "journal_start + journal_stop: handle, transaction credits (calibrated)", proc},
    {"fs.jbd_dirty", &cost_model::fs_jbd_dirty, 1550, 16, "journal_get_write_access + journal_dirty_metadata per buffer (calibrated)", proc},
    {"fs.jbd_commit", &cost_model::fs_jbd_commit, 14800, 10, "journal_commit_transaction: lock, switch the running transaction, lists, checkpoint bookkeeping (calibrated)", proc},
    {"fs.jbd_block", &cost_model::fs_jbd_block, 3500, 2, "journal_write_metadata_buffer per block: escape check, frozen copy, descriptor tag (calibrated)", proc},
    {"fs.jbd_checkpoint", &cost_model::fs_jbd_checkpoint, 2000, 6, "log_do_checkpoint: walk the checkpoint list, cleanup_journal_tail (calibrated)", proc},
    {"fs.ext4_da_reserve", &cost_model::fs_ext4_da_reserve, 1700, 3, "ext4_da_reserve_space: quota and free-cluster counters for a delayed block (calibrated)", proc},
    {"fs.ext4_mballoc", &cost_model::fs_ext4_mballoc, 7500, 10, "ext4_mb_new_blocks: goal, buddy bitmap search, preallocation, bitmap and descriptor update (calibrated)", proc},
    {"fs.ext4_extent", &cost_model::fs_ext4_extent, 1500, 4, "ext4_ext_map_blocks: extent lookup, insert or merge in i_block (calibrated)", proc},
    {"fs.btrfs_write", &cost_model::fs_btrfs_write, 6170, 8, "btrfs_file_aio_write: delalloc data and metadata reservation, extent-state bits (calibrated)", proc},
    {"fs.btrfs_alloc_extent", &cost_model::fs_btrfs_alloc_extent, 10000, 12, "cow_file_range: find_free_extent, reserve, ordered extent, extent map (calibrated)", proc},
    {"fs.btrfs_csum", &cost_model::fs_btrfs_csum, 6000, 2, "btrfs_csum_one_bio per 4 KiB page: crc32c, ordered-sum list (calibrated)", proc},
    {"fs.btrfs_ordered", &cost_model::fs_btrfs_ordered, 22000, 16, "btrfs_finish_ordered_io: join a transaction, file extent item, csum items, extent refs (calibrated)", proc},
    {"fs.btrfs_log_inode", &cost_model::fs_btrfs_log_inode, 38000, 16, "btrfs_log_inode: start the log transaction, copy inode, extent and csum items (calibrated)", proc},
    {"fs.btrfs_tree_cow", &cost_model::fs_btrfs_tree_cow, 8000, 8, "btrfs_cow_block per node: allocate, copy the node, fix the parent's pointer (calibrated)", proc},
    {"fs.btrfs_sync_log", &cost_model::fs_btrfs_sync_log, 30000, 10, "btrfs_sync_log: write and wait the log tree, the log root into the superblock (calibrated)", proc},
    {"linux.blk_submit", &cost_model::l_blk_submit, 380, 4, "generic_make_request, plug, request allocation, elevator, the driver's queue_rq writing the command (calibrated)"},
    {"linux.blk_complete", &cost_model::l_blk_complete, 250, 4, "per request: the driver's completion handling, blk_end_request, bio_endio, end_page_writeback (calibrated)"},
    // Arrakis storage dataplane.
    {"arrakis.blk_submit", &cost_model::a_blk_submit, 60, 0, "user-level VSIC driver: one command into the submission ring (estimate)"},
    {"arrakis.blk_reap", &cost_model::a_blk_reap, 40, 0, "user-level VSIC driver: one completion taken (estimate)"},
    {"arrakis.log_append", &cost_model::a_log_append, 150, 0, "persistent log: placement, entry header, bookkeeping (estimate; the CRC is priced per byte)"},
    // Direct I/O to a raw block device on the Linux-like path (os/linux/direct_io): pwrite(2) on a
    // block device opened O_DIRECT|O_DSYNC, as a log kept on the raw device (Caladan on Linux) does.
    // Estimates from the Linux 3.8 code paths (fs/block_dev.c, fs/direct-io.c, mm/filemap.c,
    // block/blk-flush.c) at IPC ~1; the request's own block-layer and driver work is
    // linux.blk_submit/blk_complete, the crossing linux.syscall_entry/exit.
    {"linux.dio_setup", &cost_model::l_dio_setup, 2400, 12,
     "per call: blkdev_aio_write and __generic_file_aio_write's checks, generic_file_direct_write's filemap_write_and_wait_range and two invalidate_inode_pages2_range on the device's empty mapping, do_blockdev_direct_IO's dio from its slab and setup, blk_start/finish_plug (estimate)", proc},
    {"linux.dio_page", &cost_model::l_dio_page, 180, 1,
     "per 4 KiB user page: get_user_pages_fast's page-table walk and get_page (dio_refill_pages), blkdev_get_block's mapping, and the put_page when the bio completes (estimate)", proc},
    {"linux.dio_bio", &cost_model::l_dio_bio, 450, 3,
     "per bio: dio_new_bio (bio_alloc_bioset from its mempool), dio_bio_add_page per segment, dio_bio_submit's accounting before submit_bio (estimate)", proc},
    {"linux.dio_complete", &cost_model::l_dio_complete, 700, 4,
     "per call: dio_bio_end_io's wake-up of the waiter, dio_await_completion and dio_bio_complete (bio_put), dio_complete's inode_dio_done and the dio freed (estimate)", proc},
    {"linux.dio_dsync", &cost_model::l_dio_dsync, 900, 5,
     "O_DSYNC: generic_write_sync to blkdev_fsync (filemap_write_and_wait_range on the empty mapping) and blkdev_issue_flush's bio allocated and submitted; on a queue without REQ_FLUSH (non-volatile write cache) generic_make_request_checks ends it at once (estimate)", proc},
    // memcached 1.4 serving the binary protocol over UDP (workloads/memcached). Estimates from the
    // code paths, a few hundred instructions each at IPC ~1, caches warm (128 keys stay in the LLC).
    {"memcached.parse", &cost_model::mc_parse, 250, 2,
     "UDP frame header and binary request header: try_read_udp, dispatch_bin_command, key length checks (estimate)", proc | user},
    {"memcached.lookup", &cost_model::mc_lookup, 300, 2,
     "hash of the key (64 B), bucket probe and key compare, item lock and refcount: assoc_find/item_get (estimate)", proc | user},
    {"memcached.store", &cost_model::mc_store, 400, 3,
     "SET: slab allocation of the new item, link into the hash and LRU, unlink the old one: do_item_alloc/do_store_item (estimate)", proc | user},
    {"memcached.prepare", &cost_model::mc_prepare, 200, 2,
     "response header and UDP frame header, stats update: add_bin_header/build_udp_headers (estimate)", proc | user},
    // Stream sockets and epoll on the Linux-like path: the bodies of the system calls (entry, exit
    // and copies are charged apart; TCP's segment processing is the tcp layer's). Estimates from
    // the Linux 3.8 code paths at IPC ~1.
    {"linux.socket", &cost_model::l_socket, 3000, 16,
     "sys_socket: sock_alloc, inet_create, sk_alloc, tcp_v4_init_sock, sock_map_fd (estimate)", proc},
    {"linux.sock_call", &cost_model::l_sock_call, 600, 4,
     "sockfd_lookup and the body of bind/listen/connect: inet_bind, inet_listen, inet_stream_connect (estimate)", proc},
    {"linux.accept", &cost_model::l_accept, 2500, 12,
     "sys_accept4: sock_alloc, inet_csk_accept taking the request from the queue, anon file and fd install (estimate)", proc},
    {"linux.sock_close", &cost_model::l_sock_close, 1500, 8,
     "sys_close on a socket: fput, sock_close, inet_release, tcp_close bookkeeping, eventpoll_release (estimate)", proc},
    {"linux.tcp_recvmsg", &cost_model::l_tcp_recvmsg, 1850, 0,
     "sock_recvmsg/tcp_recvmsg: lock_sock, receive queue walk, sk_eat_skb, tcp_rcv_space_adjust, tcp_cleanup_rbuf, release_sock (estimate 900; calibrated against Table 2's linux_read recv, 0.98 us, measured under the 1,600-connection load with warm caches; no footprint of its own beyond the socket's receive-side lines, linux.sock_rx_lines, which linux_write's recv, 1.55 us, already pays after each fsync)", proc},
    {"linux.tcp_sendmsg", &cost_model::l_tcp_sendmsg, 2300, 8,
     "sock_sendmsg/tcp_sendmsg: lock_sock, sk_stream_alloc_skb, skb_add_data setup, tcp_push, release_sock (estimate 1200; calibrated against Table 2's linux_read send, 3.17 us for a 1 KB reply, measured under the 1,600-connection load; the socket's own state is linux.sock_tx_lines, charged apart)", proc},
    {"linux.epoll_ctl", &cost_model::l_epoll_ctl, 1200, 6,
     "sys_epoll_ctl ADD or DEL: ep_insert (epitem and its eppoll_entry from their slabs, rbtree insert, ep_item_poll queueing ep_poll_callback on the socket's wait queue, the file's f_ep_links) or ep_remove (unqueue, rbtree erase, slab frees) (estimate)", proc},
    {"linux.epoll_ctl_mod", &cost_model::l_epoll_ctl_mod, 550, 2,
     "sys_epoll_ctl MOD: the two fdgets, the event from user memory, ep->mtx, ep_find's rbtree walk (~11 levels for 1,600 descriptors), ep_modify (the new mask under ep->lock, ep_item_poll through tcp_poll, the ready list if it now fires) (estimate; no allocation, unlike ADD; its footprint is the code's, the descriptor's epitem and file being linux.epitem_lines: calibrated against linux_write prepare, 0.59 us, where it runs after the fsync's sleep)", proc},
    {"linux.epoll_wait", &cost_model::l_epoll_wait, 500, 4,
     "sys_epoll_wait/ep_poll: fdget, ep->lock, ep_events_available, ep_scan_ready_list's mutex and list splices (estimate)", proc},
    {"linux.ep_poll_callback", &cost_model::l_ep_poll_callback, 150, 2,
     "ep_poll_callback from the socket's wakeup: ep->lock, event mask test, epitem onto rdllist, waitqueue_active (estimate)"},
    {"linux.ep_scan", &cost_model::l_ep_scan, 200, 2,
     "ep_send_events_proc per ready epitem: ep_item_poll (sock_poll, tcp_poll), __put_user of the event, list move (estimate)", proc},
    // Arrakis/P's emulation of the same calls in the library (no crossing, no wait queue).
    {"arrakis.socket", &cost_model::a_socket, 300, 2, "Arrakis/P socket/bind/listen/connect: descriptor table entry, the TCP layer's PCB (estimate)"},
    {"arrakis.accept", &cost_model::a_accept, 400, 2, "Arrakis/P accept: take the connection from the listener's queue, descriptor table entry (estimate)"},
    {"arrakis.sock_close", &cost_model::a_sock_close, 300, 2, "Arrakis/P close: descriptor and epoll registrations dropped, the TCP layer's close (estimate)"},
    {"arrakis.tcp_recv", &cost_model::a_tcp_recv, 540, 0, "Arrakis/P recv on TCP: descriptor lookup, receive-queue walk, window update bookkeeping (lwIP tcp_recved) (estimate 300; calibrated against Table 2 (arrakis_read recv 0.29 us))"},
    {"arrakis.tcp_send", &cost_model::a_tcp_send, 100, 0, "Arrakis/P send on TCP: descriptor lookup, send-buffer space, segment queueing (lwIP tcp_write) (estimate 300; calibrated with arrakis.tcp_tx against Table 2's Arrakis/P send rows, 0.33 us for a 5-byte reply and 0.71 us for 1 KB)"},
    {"arrakis.epoll_ctl", &cost_model::a_epoll_ctl, 150, 0, "Arrakis/P epoll_ctl: interest-list entry (estimate; the Arrakis source release's POSIX layer links or unlinks a per-descriptor entry, with no allocation and no waitset work)"},
    {"arrakis.epoll_wait", &cost_model::a_epoll_wait, 60, 0, "Arrakis/P epoll_wait: the call and the ready-list check (estimate)"},
    {"arrakis.epoll_scan", &cost_model::a_epoll_scan, 40, 0, "Arrakis/P epoll_wait per queued descriptor: its readiness from the TCP layer, the event out (estimate)"},
    // Redis 2.8 (workloads/redis): estimates from the code paths at IPC ~1, caches warm; those
    // marked calibrated were set, within what the code paths make plausible, against Table 2's
    // Arrakis/P columns (the path with no kernel crossing in these rows). Redis's code and data are
    // the process's own (process context): after a deep idle they are cold. Their footprints
    // (lines: code, the client and command structures, the dict's buckets, the AOF buffer; 2-5 KB
    // per path) are calibrated against Table 2's linux_write column, whose server sleeps in every
    // fsync (parse 2.34, lookup 1.03, log_marshal 3.64, other 2.12 us, where warm Arrakis/P shows
    // 1.19, 0.43, 2.43, 0.52). Copies (arguments out of
    // the query buffer, the AOF's two sdscatlen, a GET's value into the reply buffer) are priced
    // per byte by the copy primitives, not here.
    {"redis.parse", &cost_model::rd_parse, 800, 32,
     "per command: processInputBuffer and processMultibulkBuffer's header scans (strchr, string2ll), lookupCommand (hash of the name in the command table), processCommand's checks, resetClient and freeClientArgv (calibrated with parse_arg against Table 2's Arrakis/P read parse, 0.66 us; the write's 1.19 us comes out 1.03; its footprint against linux_write's parse, 2.34 us, cold after each fsync)", proc | user},
    {"redis.parse_arg", &cost_model::rd_parse_arg, 300, 13,
     "per argument: createStringObject, a robj and an sds from jemalloc, and its decrRefCount/zfree after the command (calibrated with parse)", proc | user},
    {"redis.lookup", &cost_model::rd_lookup, 200, 10,
     "lookupKey: dictFind (MurmurHash2 of the key, bucket, chain walk, sdscmp), LRU clock, expireIfNeeded on an empty expires dict (estimate)", proc | user},
    {"redis.set", &cost_model::rd_set, 750, 14,
     "setKey: dbAdd/dbOverwrite (dictReplace), the old value's decrRefCount and zfree, removeExpire, signalModifiedKey, keyspace notification check, server.dirty and call()'s propagation bookkeeping (calibrated with lookup against Table 2's Arrakis/P write lookup, 0.43 us; its footprint against linux_write's, 1.03 us, cold after each fsync)", proc | user},
    {"redis.del", &cost_model::rd_del, 300, 10,
     "dbDelete per key found: dictDelete from expires and the main dict, the key's sds and the value freed (estimate)", proc | user},
    {"redis.log_marshal", &cost_model::rd_log_marshal, 3800, 53,
     "feedAppendOnlyFile: catAppendOnlyGenericCommand per argument (getDecodedObject, ll2string of the length, sdsMakeRoomFor growing the command's sds by realloc), the SELECT check, server.aof_buf's growth, sdsfree; the two copies are priced per byte, the second into the log's entry on Arrakis/P (calibrated against Table 2's write log_marshal rows: Arrakis/P 2.43 us, Linux 3.64 cold)", proc | user},
    {"redis.prepare", &cost_model::rd_prepare, 110, 2,
     "the reply's first addReply: prepareClientToWrite (the writable event's installation is the epoll_ctl call, priced by it), _addReplyToBuffer and its short memcpy (calibrated against Table 2's Arrakis/P write prepare, 0.10 us: one +OK)", proc | user},
    {"redis.reply_bulk", &cost_model::rd_reply_bulk, 140, 2,
     "addReplyBulk beyond its first addReply: addReplyBulkLen (sdslen, ll2string of a length of 32 or more), then addReply of the value and of shared.crlf, each prepareClientToWrite's checks and _addReplyToBuffer; the value's copy and the CRLF's are priced by the copy primitives (estimate, ~35 cycles of ll2string for 4 digits and ~50 per addReply; with a 1 KB value from DRAM it gives Arrakis/P read prepare 0.62 us, paper 0.64)", proc | user},
    {"redis.aof_flush", &cost_model::rd_aof_flush, 60, 2,
     "flushAppendOnlyFile around its write and fsync calls (which are timed as their own rows): the empty-buffer check, the short-write check, aof_current_size, aof_buf's sdsclear (or sdsfree and sdsempty past 4,000 B), aof_last_fsync (estimate)", proc | user},
    {"redis.loop", &cost_model::rd_loop, 300, 75,
     "one event-loop iteration's own work: beforeSleep's checks, aeProcessEvents' nearest-timer search and fired-event array (estimate)", proc | user},
    {"redis.event", &cost_model::rd_event, 500, 62,
     "per fired event outside the calls: the file event's dispatch and the handler's own bookkeeping (readQueryFromClient's sdsMakeRoomFor/sdsIncrLen, lastinteraction, stats; sendReplyToClient's loop and counters) (calibrated against Table 2's Arrakis/P 'other', 0.46-0.52 us with two events per request)", proc | user},
    {"redis.accept", &cost_model::rd_accept, 1500, 6,
     "per accepted connection: acceptCommonHandler and createClient (client struct of ~1 KB initialized, query buffer, reply list, epoll registration bookkeeping) (estimate)"},
    {"redis.client_request", &cost_model::rd_client, 150, 0,
     "the load generator per request: key and mix drawn, the command built, the reply parsed and checked; a lean client, like the echo client (estimate)"},
};

} // namespace

unsigned cost_model::primitive_count() { return static_cast<unsigned>(std::size(prims)); }

void cost_model::declare(cfg::schema& s)
{
    for (const scalar_def& d : scalars)
        s.add_real(std::string("platform.cost.") + d.key, d.def, d.min, d.max, d.unit, d.help);
    for (const prim_def& d : prims) {
        s.add_real(std::string("platform.cost.") + d.key + ".cycles", d.cycles, 0, 1e7, "cycles", d.help);
        s.add_int(std::string("platform.cost.") + d.key + ".lines", d.lines, 0, 100000, "lines",
                  "footprint paid per line when the core's caches are cold");
    }
}

cost_model cost_model::from(const cfg::config& c)
{
    cost_model m;
    for (const scalar_def& d : scalars)
        m.*d.member = c.get_real(std::string("platform.cost.") + d.key);
    unsigned id = 0;
    for (const prim_def& d : prims) {
        primitive& p = m.*d.member;
        p.cycles = c.get_real(std::string("platform.cost.") + d.key + ".cycles");
        p.lines = static_cast<unsigned>(c.get_int(std::string("platform.cost.") + d.key + ".lines"));
        p.id = id++;
        p.process_context = (d.flags & proc) != 0;
        p.user_code = (d.flags & user) != 0;
        p.returns_to_user = (d.flags & to_user) != 0;
    }
    return m;
}

} // namespace iovsim::os
