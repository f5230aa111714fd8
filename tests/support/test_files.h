#pragma once
// Helpers shared by the tests that run the iovsim command line and read what it wrote.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

namespace iovsim::testing {

// Whether a program is on PATH (tests that need tshark skip without it).
inline bool have_program(const std::string& name)
{
    return std::system(("command -v " + name + " >/dev/null 2>&1").c_str()) == 0;
}

// stdout of a shell command (stderr dropped: tshark warns there when run as root).
inline std::string output_of(const std::string& cmd)
{
    std::string out;
    FILE* p = ::popen((cmd + " 2>/dev/null").c_str(), "r");
    if (p == nullptr)
        return out;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0)
        out.append(buf, n);
    ::pclose(p);
    return out;
}

// The iovsim binary: IOVSIM_BIN from the environment, else the one this build made.
inline std::string iovsim_binary()
{
    if (const char* bin = std::getenv("IOVSIM_BIN"))
        return std::filesystem::absolute(bin).string();
#ifdef IOVSIM_BIN_PATH
    if (std::filesystem::exists(IOVSIM_BIN_PATH))
        return IOVSIM_BIN_PATH;
#endif
    return {};
}

inline std::string read_file(const std::filesystem::path& p)
{
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// What a command printed and how it ended.
struct command_result {
    int code = -1;   // exit code; -1 when killed by a signal
    std::string out, err;
};

// A test that runs the iovsim binary in a scratch directory of its own (named by `prefix`, the
// test and the process), removed afterwards unless the test failed.
class binary_test : public ::testing::Test {
protected:
    explicit binary_test(std::string prefix) : m_prefix(std::move(prefix)) {}

    void SetUp() override
    {
        m_bin = iovsim_binary();
        ASSERT_FALSE(m_bin.empty()) << "set IOVSIM_BIN to the iovsim binary";
        ASSERT_TRUE(std::filesystem::exists(m_bin)) << m_bin;
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        m_dir = std::filesystem::temp_directory_path() /
                (m_prefix + "_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
        std::filesystem::remove_all(m_dir);
        std::filesystem::create_directories(m_dir);
    }
    void TearDown() override
    {
        if (!m_dir.empty() && !HasFailure())
            std::filesystem::remove_all(m_dir);
    }

    // `iovsim <args>` in the scratch directory, stdout and stderr captured.
    command_result iovsim(const std::string& args)
    {
        const auto quoted = [](const std::string& s) { return "'" + s + "'"; };
        const std::filesystem::path out = m_dir / "stdout.txt", err = m_dir / "stderr.txt";
        const std::string cmd = "cd " + quoted(m_dir.string()) + " && SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1 " + quoted(m_bin) + " " +
                                args + " >" + quoted(out.string()) + " 2>" + quoted(err.string());
        const int status = std::system(cmd.c_str());
        return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_file(out), read_file(err)};
    }

    std::string m_prefix;
    std::string m_bin;
    std::filesystem::path m_dir;
};

} // namespace iovsim::testing
