#include "sim/child_pool.h"

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <stdexcept>
#include <vector>

namespace iovsim::sim {

namespace {

[[noreturn]] void child_main(const std::function<std::string(size_t)>& body, size_t i, int fd)
{
    std::string out;
    int code = 0;
    try {
        out = body(i);
    } catch (const std::exception& e) {
        out = e.what();
        code = 1;
    }
    size_t off = 0;
    while (off < out.size()) {
        const ssize_t n = ::write(fd, out.data() + off, out.size() - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        off += static_cast<size_t>(n);
    }
    ::close(fd);
    std::_Exit(code);
}

} // namespace

void run_in_children(size_t count, unsigned jobs, const std::function<std::string(size_t)>& body,
                     const std::function<void(size_t, int status, std::string& answer)>& done)
{
    struct child {
        pid_t pid;
        int fd;
        size_t index;
        std::string out;
    };
    std::vector<child> running;
    size_t next = 0;
    while (next < count || !running.empty()) {
        while (next < count && running.size() < std::max(1u, jobs)) {
            const size_t i = next++;
            int fds[2];
            if (::pipe(fds) != 0)
                throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
            std::cout.flush();
            std::cerr.flush();
            const pid_t pid = ::fork();
            if (pid < 0)
                throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
            if (pid == 0) {
                ::close(fds[0]);
                for (const child& other : running)
                    ::close(other.fd);
                child_main(body, i, fds[1]);
            }
            ::close(fds[1]);
            running.push_back({pid, fds[0], i, {}});
        }
        // Read whatever any child has written; a child whose pipe closed has finished.
        std::vector<pollfd> fds;
        for (const child& ch : running)
            fds.push_back({ch.fd, POLLIN, 0});
        if (::poll(fds.data(), fds.size(), -1) < 0) {
            if (errno == EINTR)
                continue;
            throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
        }
        for (size_t k = fds.size(); k-- > 0;) {
            if (fds[k].revents == 0)
                continue;
            child& ch = running[k];
            std::array<char, 65536> buf;
            const ssize_t n = ::read(ch.fd, buf.data(), buf.size());
            if (n > 0) {
                ch.out.append(buf.data(), static_cast<size_t>(n));
                continue;
            }
            if (n < 0 && errno == EINTR)
                continue;
            ::close(ch.fd);
            int status = 0;
            while (::waitpid(ch.pid, &status, 0) < 0 && errno == EINTR) {
            }
            child ended = std::move(ch);
            running.erase(running.begin() + static_cast<long>(k));
            done(ended.index, status, ended.out);
        }
    }
}

} // namespace iovsim::sim
