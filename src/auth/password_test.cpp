#include "auth/password.hpp"

#include <gtest/gtest.h>

namespace tkt::auth {
namespace {

TEST(Password, HashVerifiesAndWrongDoesNot) {
    const auto hash = hash_password("correct horse", password_cost::min);
    ASSERT_TRUE(hash);
    EXPECT_TRUE(hash->starts_with("$argon2id$"));
    EXPECT_EQ(verify_password("correct horse", *hash), password_match::yes);
    EXPECT_EQ(verify_password("correct horsE", *hash), password_match::no);
    EXPECT_EQ(verify_password("", *hash), password_match::no);
}

TEST(Password, SaltsEveryHash) {
    EXPECT_NE(*hash_password("same password", password_cost::min),
              *hash_password("same password", password_cost::min));
}

TEST(Password, MinCostUsesTheMinimumLimits) {
    const auto hash = hash_password("password1", password_cost::min);
    ASSERT_TRUE(hash);
    // libsodium's minimum: 8 KiB of memory, one pass.
    EXPECT_NE(hash->find("m=8,t=1"), std::string::npos) << *hash;
    const auto interactive = hash_password("password1", password_cost::interactive);
    ASSERT_TRUE(interactive);
    EXPECT_EQ(interactive->find("m=8,t=1"), std::string::npos) << *interactive;
    EXPECT_EQ(verify_password("password1", *interactive), password_match::yes);
}

TEST(Password, GarbageHashNeverMatches) {
    EXPECT_EQ(verify_password("x", ""), password_match::no);
    EXPECT_EQ(verify_password("x", "not a hash"), password_match::no);
    EXPECT_EQ(verify_password("x", std::string(500, '$')), password_match::no);
}

TEST(Password, DummyHashIsAValidHash) {
    const auto& dummy = dummy_password_hash(password_cost::min);
    EXPECT_TRUE(dummy.starts_with("$argon2id$"));
    EXPECT_EQ(verify_password("anything", dummy), password_match::no);
}

}  // namespace
}  // namespace tkt::auth
