#pragma once
// Where a core's time goes. The first seven are the rows of Arrakis Table 1; the rest are work that
// belongs to no row there (the application itself, the file system and the block layer's storage
// path) or to no request (idle, polling an empty ring).
#include <array>
#include <cstdint>

namespace iovsim::os {

enum class category : uint8_t {
    net_stack_in,
    net_stack_out,
    scheduler,
    copy_in,
    copy_out,
    kernel_return,
    syscall,
    app,
    fs,         // VFS, file system, journal (os/linux/fs)
    block_io,   // block layer, storage driver, storage dataplane
    vsic,       // the emulated VSIC core's work for a storage request
    idle,
    poll,
    count_
};
constexpr unsigned category_count = static_cast<unsigned>(category::count_);

constexpr const char* to_string(category c)
{
    constexpr std::array<const char*, category_count> names = {
        "net_stack_in", "net_stack_out", "scheduler", "copy_in", "copy_out",
        "kernel_return", "syscall", "app", "fs", "block_io", "vsic", "idle", "poll"};
    return names[static_cast<unsigned>(c)];
}

// Categories that are part of serving a request (the others are time spent waiting for one).
constexpr bool is_request_work(category c) { return c != category::idle && c != category::poll; }

} // namespace iovsim::os
