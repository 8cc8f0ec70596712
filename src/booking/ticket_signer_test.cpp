#include "booking/ticket_signer.hpp"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "common/encoding.hpp"
#include "common/testing/temp_dir.hpp"

namespace tkt::booking {
namespace {

class TicketSigner : public ::testing::Test {
protected:
    ticket_signer load(const std::filesystem::path& dir) {
        auto s = load_or_create_ticket_signer(dir);
        EXPECT_TRUE(s) << s.error();
        return std::move(*s);
    }

    tkt::testing::temp_dir dir_{"signer"};
};

TEST_F(TicketSigner, SignedCodeVerifiesToItsTicketAndEvent) {
    const auto signer = load(dir_);
    const auto code = signer.sign("t_AZ-09", 42);
    EXPECT_TRUE(code.starts_with("TKT1.t_AZ-09.42.")) << code;
    // 64 signature bytes are 86 base64url characters; the code stays short and printable.
    EXPECT_EQ(code.size(), std::string_view{"TKT1.t_AZ-09.42."}.size() + 86);
    for (const char c : code) EXPECT_TRUE(c > 0x20 && c < 0x7f) << code;

    const auto parsed = signer.verify(code);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(*parsed, (parsed_code{.ticket_id = "t_AZ-09", .event_id = 42}));
    // Ed25519 is deterministic: signing again gives the same code.
    EXPECT_EQ(signer.sign("t_AZ-09", 42), code);
}

TEST_F(TicketSigner, TamperedTruncatedAndMalformedCodesAreRejected) {
    const auto signer = load(dir_);
    const auto code = signer.sign("abc", 42);
    const auto signature = code.substr(std::string_view{"TKT1.abc.42."}.size());
    auto flipped = code;
    flipped[flipped.size() - 5] = flipped[flipped.size() - 5] == 'x' ? 'y' : 'x';

    const std::vector<std::string> bad{
        "",
        "TKT1",
        "TKT1.abc.42",
        "TKT1.abc.42.",
        code.substr(0, code.size() - 1),
        code.substr(0, code.size() - 2),
        code + "A",
        code + ".x",
        flipped,
        "TKT1.abd.42." + signature,   // another ticket, same signature
        "TKT1.abc.43." + signature,   // another event, same signature
        "TKT1.abc.042." + signature,  // another spelling of the event
        "TKT1.abc.+42." + signature,
        "TKT2.abc.42." + signature,
        "tkt1.abc.42." + signature,
        "TKT1..42." + signature,
        "TKT1.a.c.42." + signature,
        "TKT1.abc.0." + signature,
        "TKT1.abc.-42." + signature,
        "TKT1.abc.99999999999999999999." + signature,
        "TKT1.a c.42." + signature,
        "TKT1.abc.42." + signature + "=",
        " " + code,
        code + "\n",
        std::string(1000, 'A'),
    };
    for (const auto& c : bad) EXPECT_FALSE(signer.verify(c)) << c;
    EXPECT_TRUE(signer.verify(code));
}

TEST_F(TicketSigner, CodesOfAnotherKeyAreRejected) {
    const auto ours = load(dir_ / "a");
    const auto theirs = load(dir_ / "b");
    EXPECT_NE(ours.public_key(), theirs.public_key());
    EXPECT_FALSE(ours.verify(theirs.sign("abc", 1)));
    EXPECT_FALSE(theirs.verify(ours.sign("abc", 1)));
}

TEST_F(TicketSigner, KeyIsKeptInTheDataDirWithMode0600AndReusedOnRestart) {
    const auto first = load(dir_);
    const auto code = first.sign("kept", 7);
    const auto path = dir_ / ticket_key_file_name;
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600);

    const auto second = load(dir_);
    EXPECT_EQ(second.public_key(), first.public_key());
    const auto parsed = second.verify(code);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->ticket_id, "kept");
    EXPECT_EQ(second.sign("kept", 7), code);
}

TEST_F(TicketSigner, BadSeedsAndCorruptKeyFilesAreStartUpErrors) {
    EXPECT_FALSE(ticket_signer::from_seed(random_bytes(31)));
    EXPECT_TRUE(ticket_signer::from_seed(random_bytes(32)));

    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / ticket_key_file_name) << "not a key\n";
    const auto corrupt = load_or_create_ticket_signer(dir_);
    ASSERT_FALSE(corrupt);
    EXPECT_NE(corrupt.error().find(std::string{ticket_key_file_name}), std::string::npos)
        << corrupt.error();
}

TEST_F(TicketSigner, ConfiguredKeysSignWithTheFirstAndVerifyWithEveryOne) {
    const auto old_seed = base64url_encode(random_bytes(32));
    const auto new_seed = base64url_encode(random_bytes(32));
    // Before the rotation: every node has the old key alone.
    auto before = load_ticket_signer({old_seed}, dir_ / "a");
    ASSERT_TRUE(before) << before.error();
    const auto old_code = before->sign("old", 3);
    // After: the new key first, the old one kept for codes already printed.
    auto after = load_ticket_signer({new_seed, old_seed}, dir_ / "b");
    ASSERT_TRUE(after) << after.error();
    const auto new_code = after->sign("new", 3);
    EXPECT_TRUE(after->verify(old_code));
    EXPECT_TRUE(after->verify(new_code));
    EXPECT_FALSE(before->verify(new_code));
    // Another node given the same keys signs the same codes; no key file is written.
    auto other = load_ticket_signer({new_seed, old_seed}, dir_ / "c");
    ASSERT_TRUE(other);
    EXPECT_EQ(other->sign("new", 3), new_code);
    EXPECT_FALSE(std::filesystem::exists(dir_ / "c" / ticket_key_file_name));
    // Once the old key is removed, its codes no longer scan.
    auto dropped = load_ticket_signer({new_seed}, dir_ / "d");
    ASSERT_TRUE(dropped);
    EXPECT_FALSE(dropped->verify(old_code));
    EXPECT_TRUE(dropped->verify(new_code));
}

TEST_F(TicketSigner, AConfiguredKeyThatIsNotASeedIsAStartUpErrorThatDoesNotShowIt) {
    const auto bad = load_ticket_signer({base64url_encode(random_bytes(32)), "c2hvcnQ"}, dir_);
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().find("key 2"), std::string::npos) << bad.error();
    EXPECT_EQ(bad.error().find("c2hvcnQ"), std::string::npos) << bad.error();
}

TEST(TicketIds, OnlyShortUrlSafeIdsWithoutDots) {
    EXPECT_TRUE(valid_ticket_id("a"));
    EXPECT_TRUE(valid_ticket_id(std::string(64, 'x')));
    EXPECT_FALSE(valid_ticket_id(std::string(65, 'x')));
    EXPECT_FALSE(valid_ticket_id(""));
    EXPECT_FALSE(valid_ticket_id("a.b"));
    EXPECT_FALSE(valid_ticket_id("a/b"));
}

}  // namespace
}  // namespace tkt::booking
