// RESP2 as the Redis-like server reads and writes it: multibulk and inline commands, split reads at
// every byte boundary, pipelining, every protocol error with Redis's text, and the reply encoders
// against the protocol's wire form (and the client's reply parser on them).
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "workloads/redis/resp.h"

using namespace iovsim::workloads::redis;

namespace {

const uint8_t* u8(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

std::vector<std::string> words(const command& c) { return {c.args.begin(), c.args.end()}; }

// Parses every command of `in`, in order; stops at need_more or error.
std::vector<std::vector<std::string>> parse_all(const std::string& in, parse_status& last, size_t& taken,
                                                resp_parser parser = resp_parser{})
{
    std::vector<std::vector<std::string>> out;
    command c;
    taken = 0;
    for (;;) {
        last = parser.next(u8(in) + taken, in.size() - taken, c);
        if (last != parse_status::command)
            return out;
        out.push_back(words(c));
        taken += c.bytes;
        if (taken == in.size())
            return out;
    }
}

} // namespace

TEST(redis_resp, multibulk_set_command)
{
    const std::string in = "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n";
    resp_parser p;
    command c;
    ASSERT_EQ(p.next(u8(in), in.size(), c), parse_status::command);
    EXPECT_EQ(words(c), (std::vector<std::string>{"SET", "key", "value"}));
    EXPECT_EQ(c.bytes, in.size());
    EXPECT_FALSE(c.inline_form);
}

TEST(redis_resp, binary_safe_bulk_with_crlf_inside)
{
    const std::string v("a\r\nb\0c", 6);
    std::string in;
    append_command(in, {"SET", "k", v});
    resp_parser p;
    command c;
    ASSERT_EQ(p.next(u8(in), in.size(), c), parse_status::command);
    ASSERT_EQ(c.args.size(), 3u);
    EXPECT_EQ(std::string(c.args[2]), v);
}

TEST(redis_resp, split_at_every_byte_boundary_needs_more_then_parses)
{
    std::string in;
    append_command(in, {"SET", "key:000042", std::string(100, 'x')});
    resp_parser p;
    command c;
    for (size_t cut = 0; cut < in.size(); ++cut)
        ASSERT_EQ(p.next(u8(in), cut, c), parse_status::need_more) << "cut at " << cut;
    ASSERT_EQ(p.next(u8(in), in.size(), c), parse_status::command);
    EXPECT_EQ(c.bytes, in.size());
    // Inline too.
    const std::string line = "SET k \"v 1\"\r\n";
    for (size_t cut = 0; cut < line.size(); ++cut)
        ASSERT_EQ(p.next(u8(line), cut, c), parse_status::need_more) << "inline cut at " << cut;
    ASSERT_EQ(p.next(u8(line), line.size(), c), parse_status::command);
    EXPECT_EQ(words(c), (std::vector<std::string>{"SET", "k", "v 1"}));
}

TEST(redis_resp, pipelined_commands_one_after_another)
{
    std::string in;
    append_command(in, {"GET", "a"});
    append_command(in, {"SET", "b", "2"});
    in += "PING\r\n";
    append_command(in, {"DEL", "a", "b"});
    in += "*1\r\n$4\r\nPI";   // the start of a fifth
    parse_status last;
    size_t taken;
    const auto cmds = parse_all(in, last, taken);
    ASSERT_EQ(cmds.size(), 4u);
    EXPECT_EQ(cmds[0], (std::vector<std::string>{"GET", "a"}));
    EXPECT_EQ(cmds[1], (std::vector<std::string>{"SET", "b", "2"}));
    EXPECT_EQ(cmds[2], (std::vector<std::string>{"PING"}));
    EXPECT_EQ(cmds[3], (std::vector<std::string>{"DEL", "a", "b"}));
    EXPECT_EQ(last, parse_status::need_more);
    EXPECT_EQ(in.size() - taken, 10u);
}

TEST(redis_resp, empty_commands_are_taken_without_arguments)
{
    resp_parser p;
    command c;
    for (const std::string in : {"*0\r\n", "*-1\r\n", "\r\n", "   \r\n"}) {
        ASSERT_EQ(p.next(u8(in), in.size(), c), parse_status::command) << in;
        EXPECT_TRUE(c.args.empty());
        EXPECT_EQ(c.bytes, in.size());
    }
}

TEST(redis_resp, inline_quotes_and_escapes_as_sdssplitargs)
{
    resp_parser p;
    command c;
    const std::string in = "set 'it''s' \"a\\x41\\n\" \"\" x\n";
    // 'it''s' is not a word: a closing quote must end it.
    ASSERT_EQ(p.next(u8(in), in.size(), c), parse_status::error);
    EXPECT_EQ(p.error_text(), "ERR Protocol error: unbalanced quotes in request");
    const std::string ok = "set 'it\\'s' \"a\\x41\\n\" \"\" x\n";
    ASSERT_EQ(p.next(u8(ok), ok.size(), c), parse_status::command);
    EXPECT_EQ(words(c), (std::vector<std::string>{"set", "it's", "aA\n", "", "x"}));
    EXPECT_TRUE(c.inline_form);
    const std::string open = "get \"abc\r\n";
    ASSERT_EQ(p.next(u8(open), open.size(), c), parse_status::error);
    EXPECT_EQ(p.error_text(), "ERR Protocol error: unbalanced quotes in request");
}

TEST(redis_resp, every_protocol_error_with_redis_text)
{
    resp_limits small;
    small.max_inline = 32;
    small.max_args = 4;
    small.max_bulk_len = 100;
    struct bad_case {
        std::string in;
        const char* text;
    };
    const std::vector<bad_case> cases = {
        {"*x\r\n", "invalid multibulk length"},
        {"*\r\n", "invalid multibulk length"},
        {"*01\r\n", "invalid multibulk length"},
        {"*5\r\n", "invalid multibulk length"},   // above max_args
        {"*" + std::string(40, '1'), "too big mbulk count string"},
        {"*1\r\n+GET\r\n", "expected '$', got '+'"},
        {"*1\r\n$x\r\n", "invalid bulk length"},
        {"*1\r\n$-1\r\n", "invalid bulk length"},
        {"*1\r\n$101\r\n", "invalid bulk length"},   // above max_bulk_len
        {"*1\r\n$" + std::string(40, '1'), "too big bulk count string"},
        {std::string(40, 'a'), "too big inline request"},
        {"GET \"x\"y\r\n", "unbalanced quotes in request"},
    };
    for (const bad_case& b : cases) {
        resp_parser p(small);
        command c;
        ASSERT_EQ(p.next(u8(b.in), b.in.size(), c), parse_status::error) << b.in;
        EXPECT_EQ(p.error_text(), std::string("ERR Protocol error: ") + b.text) << b.in;
    }
    // Up to the limits is fine.
    resp_parser p(small);
    command c;
    std::string ok;
    append_command(ok, {"a", "b", "c", std::string(100, 'v')});
    EXPECT_EQ(p.next(u8(ok), ok.size(), c), parse_status::command);
    const std::string line(31, 'a');
    EXPECT_EQ(p.next(u8(line), line.size(), c), parse_status::need_more);
}

TEST(redis_resp, encoders_write_the_wire_form)
{
    std::string out;
    append_simple(out, "OK");
    append_error(out, "ERR unknown command 'FOO'");
    append_integer(out, 0);
    append_integer(out, -42);
    append_integer(out, 1234567890123);
    append_bulk(out, "bar");
    append_bulk(out, "");
    append_null_bulk(out);
    EXPECT_EQ(out, "+OK\r\n-ERR unknown command 'FOO'\r\n:0\r\n:-42\r\n:1234567890123\r\n$3\r\nbar\r\n$0\r\n\r\n$-1\r\n");
    std::string cmd;
    append_command(cmd, {"SET", "mykey", std::string(1024, 'z')});
    EXPECT_EQ(cmd.substr(0, 26), "*3\r\n$3\r\nSET\r\n$5\r\nmykey\r\n$1");
    EXPECT_EQ(cmd.size(), command_bytes({"SET", "mykey", std::string(1024, 'z')}));
    EXPECT_EQ(cmd.size(), 4u + 9u + 11u + 7u + 1024u + 2u);
}

TEST(redis_resp, reply_parser_reads_every_type_and_splits)
{
    std::string in;
    append_simple(in, "PONG");
    append_error(in, "ERR x");
    append_integer(in, -7);
    append_bulk(in, std::string("a\r\nb", 4));
    append_null_bulk(in);
    const std::vector<reply_type> types = {reply_type::simple, reply_type::error, reply_type::integer, reply_type::bulk,
                                           reply_type::null_bulk};
    size_t pos = 0;
    for (reply_type t : types) {
        reply r;
        // Every prefix of this reply is incomplete.
        size_t whole = 0;
        for (size_t cut = 0;; ++cut) {
            const reply_status st = parse_reply(u8(in) + pos, cut, 1 << 20, r);
            if (st == reply_status::reply) {
                whole = cut;
                break;
            }
            ASSERT_EQ(st, reply_status::need_more) << "cut " << cut;
            ASSERT_LT(cut, in.size() - pos);
        }
        EXPECT_EQ(r.type, t);
        EXPECT_EQ(r.bytes, whole);
        if (t == reply_type::integer) {
            EXPECT_EQ(r.integer, -7);
        }
        if (t == reply_type::bulk) {
            EXPECT_EQ(std::string(r.text), std::string("a\r\nb", 4));
        }
        pos += r.bytes;
    }
    EXPECT_EQ(pos, in.size());
    reply r;
    for (const std::string bad : {"*2\r\n", "$5\r\nabcdefg\r\n", ":1x\r\n", "+a\rb\r\n", "$-2\r\n"})
        EXPECT_EQ(parse_reply(u8(bad), bad.size(), 1 << 20, r), reply_status::error) << bad;
}

TEST(redis_resp, names_compare_case_insensitively)
{
    EXPECT_TRUE(name_is("SeT", "set"));
    EXPECT_TRUE(name_is("get", "get"));
    EXPECT_FALSE(name_is("gets", "get"));
    EXPECT_FALSE(name_is("ge", "get"));
}
