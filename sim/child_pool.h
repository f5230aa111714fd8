#pragma once
// Work in child processes: SystemC elaborates once per process, so every simulation that must
// start from a fresh kernel (an experiment's point, a crash trial) runs in a fork of its own. The
// child sends its answer back through a pipe; the parent reads every running child's pipe as it
// fills and hands each answer over when the child ends.
#include <cstddef>
#include <functional>
#include <string>

namespace iovsim::sim {

// Runs jobs 0..count-1, each in a child process, at most `jobs` at once (at least one).
// `body(i)` runs in the child: what it returns is sent back and the child exits 0; if it throws,
// the message is sent back and the child exits 1. `done(i, status, answer)` runs in the parent as
// each child ends (in the order they end), with the waitpid status. Throws std::runtime_error when
// pipe, fork or poll fail.
void run_in_children(size_t count, unsigned jobs, const std::function<std::string(size_t)>& body,
                     const std::function<void(size_t, int status, std::string& answer)>& done);

} // namespace iovsim::sim
