// Entry point for every test binary. libsystemc owns main() and calls sc_main(); GoogleTest runs
// from here. A binary that runs no test fails, so a link or filter mistake cannot pass silently.
#include <gtest/gtest.h>
#include <systemc>

int sc_main(int argc, char* argv[])
{
    ::testing::InitGoogleTest(&argc, argv);
    const int rc = RUN_ALL_TESTS();
    const auto* unit = ::testing::UnitTest::GetInstance();
    const bool listing = ::testing::GTEST_FLAG(list_tests);
    if (!listing && unit->test_to_run_count() == 0) {
        std::fprintf(stderr, "error: no test ran\n");
        return 1;
    }
    return rc;
}
