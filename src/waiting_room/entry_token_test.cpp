#include "waiting_room/entry_token.hpp"

#include <gtest/gtest.h>

namespace tkt::waiting_room {
namespace {

using namespace std::chrono_literals;

const time_point now{std::chrono::seconds{1'800'000'000}};
const auth::keyring keys = auth::make_keyring({"k1", std::string(32, 'x')});
constexpr std::string_view issuer = "ticketon";

entry_claims claims() {
    return entry_claims{.user = 7, .event = 3, .seq = 41, .expires_at = now + 600s};
}

TEST(entry_token, round_trips_for_its_user_and_event) {
    const auto token = sign_entry(claims(), keys, issuer);
    auto got = verify_entry(token, keys, issuer, 3, 7, now);
    ASSERT_TRUE(got) << to_string(got.error());
    EXPECT_EQ(got->seq, 41);
    EXPECT_EQ(got->user, 7);
    EXPECT_EQ(got->event, 3);
    EXPECT_EQ(got->expires_at, now + 600s);
}

TEST(entry_token, another_event_or_user_is_refused) {
    const auto token = sign_entry(claims(), keys, issuer);
    EXPECT_EQ(verify_entry(token, keys, issuer, 4, 7, now).error(), entry_error::wrong_event);
    EXPECT_EQ(verify_entry(token, keys, issuer, 3, 8, now).error(), entry_error::wrong_user);
}

TEST(entry_token, expiry_is_exclusive) {
    const auto token = sign_entry(claims(), keys, issuer);
    EXPECT_TRUE(verify_entry(token, keys, issuer, 3, 7, now + 599s));
    EXPECT_EQ(verify_entry(token, keys, issuer, 3, 7, now + 600s).error(), entry_error::expired);
}

TEST(entry_token, tampered_foreign_or_access_tokens_are_refused) {
    auto token = sign_entry(claims(), keys, issuer);
    // A changed payload byte (another seq) breaks the signature.
    auto dot = token.find('.');
    auto tampered = token;
    tampered[dot + 5] = tampered[dot + 5] == 'A' ? 'B' : 'A';
    EXPECT_EQ(verify_entry(tampered, keys, issuer, 3, 7, now).error(), entry_error::malformed);
    // Signed with a key we do not have.
    const auto other = auth::make_keyring({"k1", std::string(32, 'y')});
    EXPECT_EQ(verify_entry(sign_entry(claims(), other, issuer), keys, issuer, 3, 7, now).error(),
              entry_error::malformed);
    // Another issuer.
    EXPECT_EQ(
        verify_entry(sign_entry(claims(), keys, "elsewhere"), keys, issuer, 3, 7, now).error(),
        entry_error::malformed);
    // An access token of the same user is not an entry token, nor the reverse.
    const auto access = auth::sign(auth::claims{.sub = "7",
                                                .role = "USER",
                                                .iat = unix_seconds(now),
                                                .exp = unix_seconds(now + 600s),
                                                .iss = std::string(issuer)},
                                   keys);
    EXPECT_EQ(verify_entry(access, keys, issuer, 3, 7, now).error(), entry_error::malformed);
    EXPECT_FALSE(auth::verify(token, keys, issuer, now));
    EXPECT_EQ(verify_entry("", keys, issuer, 3, 7, now).error(), entry_error::malformed);
    EXPECT_EQ(verify_entry("a.b.c", keys, issuer, 3, 7, now).error(), entry_error::malformed);
}

}  // namespace
}  // namespace tkt::waiting_room
