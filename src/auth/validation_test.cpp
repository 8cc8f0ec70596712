#include "auth/validation.hpp"

#include <gtest/gtest.h>

namespace tkt::auth {
namespace {

TEST(Validation, EmailIsTrimmedAndLowerCased) {
    EXPECT_EQ(*normalize_email("  Alice.Smith+tix@Example.COM \t"), "alice.smith+tix@example.com");
    EXPECT_EQ(*normalize_email("a@b.co"), "a@b.co");
    EXPECT_EQ(*normalize_email("x@sub.domain-name.kr"), "x@sub.domain-name.kr");
}

TEST(Validation, EmailShapeIsEnforced) {
    for (const auto* bad : {"", "   ", "plain", "@example.com", "a@", "a@example", "a@@example.com",
                            "a@b@example.com", "a b@example.com", "a@exa mple.com", "a@example.c",
                            "a@.example.com", "a@example..com", "a@-example.com", ".a@example.com",
                            "a..b@example.com", "a@example.com."}) {
        const auto r = normalize_email(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, problem_code::validation_failed) << bad;
        EXPECT_EQ(r.error().field, "email") << bad;
    }
}

TEST(Validation, EmailAtMost254Characters) {
    const std::string domain = "@" + std::string(61, 'd') + "." + std::string(61, 'e') + "." +
                               std::string(61, 'f') + ".com";
    const std::string local(254 - domain.size(), 'a');
    ASSERT_EQ((local + domain).size(), 254u);
    ASSERT_LE(local.size(), 64u);
    EXPECT_TRUE(normalize_email(local + domain));
    EXPECT_FALSE(normalize_email("a" + local + domain));
}

TEST(Validation, PasswordLengthInCharacters) {
    EXPECT_FALSE(check_password("1234567"));
    EXPECT_TRUE(check_password("12345678"));
    EXPECT_TRUE(check_password(std::string(128, 'x')));
    EXPECT_FALSE(check_password(std::string(129, 'x')));
    // Eight Hangul syllables are eight characters although they are 24 bytes.
    EXPECT_TRUE(check_password("가나다라마바사아"));
    EXPECT_FALSE(check_password("가나다라마바사"));
    EXPECT_EQ(check_password("short").error().field, "password");
    EXPECT_EQ(check_password("short", "newPassword").error().field, "newPassword");
    EXPECT_FALSE(check_password("\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8"));
}

TEST(Validation, NameIsTrimmedAndBounded) {
    EXPECT_EQ(*normalize_name("  Kim Minji  "), "Kim Minji");
    EXPECT_EQ(*normalize_name("x"), "x");
    EXPECT_TRUE(normalize_name(std::string(50, 'n')));
    EXPECT_FALSE(normalize_name(std::string(51, 'n')));
    EXPECT_TRUE(normalize_name("김민지"));
    const auto empty = normalize_name("   ");
    ASSERT_FALSE(empty);
    EXPECT_EQ(empty.error().field, "name");
    EXPECT_FALSE(normalize_name("bad\x01name"));
}

TEST(Validation, Utf8Length) {
    EXPECT_EQ(utf8_length(""), 0u);
    EXPECT_EQ(utf8_length("abc"), 3u);
    EXPECT_EQ(utf8_length("한글"), 2u);
    EXPECT_EQ(utf8_length("\xf0\x9f\x8e\xab"), 1u);
    EXPECT_EQ(utf8_length("\xe4\xb8"), std::string_view::npos);
}

}  // namespace
}  // namespace tkt::auth
