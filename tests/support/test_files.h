#pragma once
// Helpers shared by the tests that run the iovsim command line and read what it wrote.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

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

} // namespace iovsim::testing
