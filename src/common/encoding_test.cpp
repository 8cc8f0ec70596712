#include "common/encoding.hpp"

#include <gtest/gtest.h>

namespace tkt {
namespace {

TEST(Base64Url, EncodesRfc4648VectorsWithoutPadding) {
    EXPECT_EQ(base64url_encode(std::string_view{""}), "");
    EXPECT_EQ(base64url_encode(std::string_view{"f"}), "Zg");
    EXPECT_EQ(base64url_encode(std::string_view{"fo"}), "Zm8");
    EXPECT_EQ(base64url_encode(std::string_view{"foo"}), "Zm9v");
    EXPECT_EQ(base64url_encode(std::string_view{"foob"}), "Zm9vYg");
    EXPECT_EQ(base64url_encode(std::string_view{"fooba"}), "Zm9vYmE");
    EXPECT_EQ(base64url_encode(std::string_view{"foobar"}), "Zm9vYmFy");
}

TEST(Base64Url, UsesTheUrlAlphabet) {
    const bytes data{0xFB, 0xFF, 0xBF};
    EXPECT_EQ(base64url_encode(data), "-_-_");
    EXPECT_EQ(*base64url_decode("-_-_"), data);
}

TEST(Base64Url, RoundTripsEveryLength) {
    for (std::size_t n = 0; n < 40; ++n) {
        const auto data = random_bytes(n);
        const auto decoded = base64url_decode(base64url_encode(data));
        ASSERT_TRUE(decoded) << n;
        EXPECT_EQ(*decoded, data) << n;
    }
}

TEST(Base64Url, RejectsBadInput) {
    EXPECT_FALSE(base64url_decode("Zm9v="));  // padding
    EXPECT_FALSE(base64url_decode("Zm+v"));   // standard alphabet
    EXPECT_FALSE(base64url_decode("Zm/v"));
    EXPECT_FALSE(base64url_decode("Zm9 v"));
    EXPECT_FALSE(base64url_decode("Z"));   // impossible length
    EXPECT_FALSE(base64url_decode("Zh"));  // non-zero leftover bits ("Zg" is canonical)
    EXPECT_TRUE(base64url_decode("Zg"));
}

TEST(Hex, RoundTripsAndRejectsBadInput) {
    const bytes data{0x00, 0x7F, 0xAB, 0xFF};
    EXPECT_EQ(hex_encode(data), "007fabff");
    EXPECT_EQ(*hex_decode("007FabfF"), data);
    EXPECT_FALSE(hex_decode("abc"));
    EXPECT_FALSE(hex_decode("zz"));
}

TEST(Sha256, MatchesKnownVectors) {
    EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256_hex("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(sha256("abc").size(), 32u);
}

TEST(RandomBytes, HasTheAskedLengthAndDiffers) {
    const auto a = random_bytes(32);
    const auto b = random_bytes(32);
    EXPECT_EQ(a.size(), 32u);
    EXPECT_NE(a, b);
    EXPECT_TRUE(random_bytes(0).empty());
}

TEST(ConstantTimeEqual, ComparesContentAndLength) {
    EXPECT_TRUE(constant_time_equal(std::string_view{"secret"}, std::string_view{"secret"}));
    EXPECT_FALSE(constant_time_equal(std::string_view{"secret"}, std::string_view{"secreT"}));
    EXPECT_FALSE(constant_time_equal(std::string_view{"secret"}, std::string_view{"secre"}));
    EXPECT_TRUE(constant_time_equal(std::string_view{""}, std::string_view{""}));
}

TEST(EscapeMarkup, EscapesWhatCouldEndTextOrAnAttribute) {
    EXPECT_EQ(escape_markup(R"(<a href="x">Tom & 'Jerry'</a>)"),
              "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;");
    EXPECT_EQ(escape_markup("콘서트 A-1-1"), "콘서트 A-1-1");
    EXPECT_EQ(escape_markup(""), "");
}

}  // namespace
}  // namespace tkt
