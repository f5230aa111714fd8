#pragma once
// Helpers shared by the tests that run the iovsim command line and read what it wrote.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <unistd.h>

namespace iovsim::testing {

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

    std::string m_prefix;
    std::string m_bin;
    std::filesystem::path m_dir;
};

} // namespace iovsim::testing
