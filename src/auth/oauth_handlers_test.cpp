#include "auth/oauth_handlers.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace tkt::auth::oauth {
namespace {

TEST(oauth_handlers, the_provider_list_names_each_provider_and_nothing_secret) {
    provider kakao{.name = "kakao", .client_id = "kakao-client", .client_secret = "s3cret-k"};
    provider acme{.name = "acme",
                  .client_id = "acme-client",
                  .client_secret = "s3cret-a",
                  .issuer = "https://id.acme.example"};
    const auto body = boost::json::serialize(provider_list_json({kakao, acme}));
    EXPECT_EQ(boost::json::parse(body),
              boost::json::parse(R"({"providers":[{"name":"kakao","openid":false},)"
                                 R"({"name":"acme","openid":true}]})"));
    EXPECT_THAT(body, ::testing::Not(::testing::HasSubstr("s3cret")));
    EXPECT_THAT(body, ::testing::Not(::testing::HasSubstr("client")));
}

TEST(oauth_handlers, no_provider_configured_is_an_empty_list) {
    EXPECT_EQ(provider_list_json({}), boost::json::parse(R"({"providers":[]})"));
}

}  // namespace
}  // namespace tkt::auth::oauth
