#include "auth/oauth_provider.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/url/parse.hpp>

#include "common/encoding.hpp"

namespace tkt::auth::oauth {
namespace {

using ::testing::HasSubstr;

constexpr std::int64_t now = 1'800'000'000;

const keyring keys = make_keyring(jwt_key{"k1", std::string(32, 'k')});

oauth2_provider_config settings(std::string name) {
    oauth2_provider_config c;
    c.name = std::move(name);
    c.client_id = "the-client";
    c.client_secret = "the-secret";
    return c;
}

boost::json::object json(std::string_view text) {
    return boost::json::parse(text).as_object();
}

TEST(oauth_provider, presets_fill_in_what_the_operator_left_out) {
    const auto kakao = resolve(settings("kakao"));
    EXPECT_EQ(kakao.token_url, "https://kauth.kakao.com/oauth/token");
    EXPECT_EQ(kakao.userinfo_url, "https://kapi.kakao.com/v2/user/me");
    EXPECT_EQ(kakao.fields.subject, "id");
    EXPECT_FALSE(kakao.oidc());
    const auto naver = resolve(settings("naver"));
    EXPECT_EQ(naver.userinfo_url, "https://openapi.naver.com/v1/nid/me");
    EXPECT_TRUE(naver.state_in_token_request);
    EXPECT_EQ(naver.fields.email_verified, "");
    const auto google = resolve(settings("google"));
    EXPECT_TRUE(google.oidc());
    EXPECT_EQ(google.issuer, "https://accounts.google.com");
    EXPECT_EQ(google.scopes, "openid email profile");
    auto custom = settings("kakao");
    custom.userinfo_url = "http://127.0.0.1:9/me";
    custom.scopes = {"a", "b"};
    custom.name_field = "nick";
    const auto overridden = resolve(custom);
    EXPECT_EQ(overridden.userinfo_url, "http://127.0.0.1:9/me");
    EXPECT_EQ(overridden.token_url, "https://kauth.kakao.com/oauth/token");
    EXPECT_EQ(overridden.scopes, "a b");
    EXPECT_EQ(overridden.fields.name, "nick");
    EXPECT_EQ(overridden.fields.email, "kakao_account.email");
}

TEST(oauth_provider, kakao_profile) {
    const auto p = map_profile(json(R"({"id": 4242424242, "connected_at": "2026-01-01T00:00:00Z",
        "kakao_account": {"profile": {"nickname": "라이언"}, "email": "Ryan@Kakao.com",
        "is_email_valid": true, "is_email_verified": true}})"),
                               resolve(settings("kakao")).fields);
    ASSERT_TRUE(p.has_value()) << p.error().detail;
    EXPECT_EQ(p->subject, "4242424242");
    EXPECT_EQ(p->email, "ryan@kakao.com");
    EXPECT_TRUE(p->email_verified);
    EXPECT_EQ(p->name, "라이언");
}

TEST(oauth_provider, naver_profile_never_counts_as_verified) {
    const auto p = map_profile(json(R"({"resultcode": "00", "message": "success",
        "response": {"id": "32742776", "nickname": "OpenAPI", "name": "오픈 API",
        "email": "openapi@naver.com"}})"),
                               resolve(settings("naver")).fields);
    ASSERT_TRUE(p.has_value()) << p.error().detail;
    EXPECT_EQ(p->subject, "32742776");
    EXPECT_EQ(p->email, "openapi@naver.com");
    EXPECT_FALSE(p->email_verified);
    EXPECT_EQ(p->name, "오픈 API");
}

TEST(oauth_provider, google_claims) {
    const auto p = map_profile(json(R"({"sub": "1098", "email": "a@gmail.com",
        "email_verified": true, "name": "Ann"})"),
                               resolve(settings("google")).fields);
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->subject, "1098");
    EXPECT_TRUE(p->email_verified);
    EXPECT_EQ(p->name, "Ann");
    // "true" as text counts too; anything else does not.
    EXPECT_TRUE(map_profile(json(R"({"sub":"1","email":"a@b.co","email_verified":"true"})"), {})
                    ->email_verified);
    EXPECT_FALSE(map_profile(json(R"({"sub":"1","email":"a@b.co","email_verified":1})"), {})
                     ->email_verified);
}

TEST(oauth_provider, incomplete_profiles_are_refused) {
    const auto kakao = resolve(settings("kakao")).fields;
    // Kakao without consent to share the email address.
    const auto no_email = map_profile(json(R"({"id": 1, "kakao_account": {}})"), kakao);
    ASSERT_FALSE(no_email.has_value());
    EXPECT_EQ(no_email.error().code, problem_code::oauth_profile_incomplete);
    EXPECT_THAT(no_email.error().detail, HasSubstr("kakao_account.email"));
    const auto no_id = map_profile(json(R"({"kakao_account": {"email": "a@b.co"}})"), kakao);
    ASSERT_FALSE(no_id.has_value());
    EXPECT_EQ(no_id.error().code, problem_code::oauth_profile_incomplete);
    EXPECT_FALSE(map_profile(json(R"({"sub": "1", "email": "not an address"})"), {}));
    // No name: the email's local part.
    EXPECT_EQ(map_profile(json(R"({"sub": "1", "email": "kim@x.co"})"), {})->name, "kim");
}

TEST(oauth_provider, the_state_round_trips_bound_to_its_browser) {
    const auto binding = new_binding();
    const auto claims = new_state("kakao", binding, now);
    const auto token = sign_state(claims, keys);
    const auto back = verify_state(token, keys, "kakao", binding, now + 10);
    ASSERT_TRUE(back.has_value()) << back.error().detail;
    EXPECT_EQ(back->id, claims.id);
    EXPECT_EQ(back->nonce, claims.nonce);
    EXPECT_EQ(back->exp, now + state_ttl_seconds);
}

TEST(oauth_provider, bad_states_are_refused) {
    const auto binding = new_binding();
    const auto token = sign_state(new_state("kakao", binding, now), keys);
    auto refused = [&](std::string_view t, std::string_view provider, std::string_view b,
                       std::int64_t at) {
        const auto r = verify_state(t, keys, provider, b, at);
        EXPECT_FALSE(r.has_value());
        return r ? problem{} : r.error();
    };
    EXPECT_EQ(refused(token, "kakao", binding, now + state_ttl_seconds).code,
              problem_code::oauth_state_invalid);
    EXPECT_THAT(refused(token, "kakao", new_binding(), now).detail, HasSubstr("another browser"));
    EXPECT_THAT(refused(token, "kakao", "", now).detail, HasSubstr("cookie is missing"));
    EXPECT_THAT(refused(token, "naver", binding, now).detail, HasSubstr("another provider"));
    EXPECT_THAT(refused("", "kakao", binding, now).detail, HasSubstr("missing"));
    auto forged = token;
    forged.back() = forged.back() == 'A' ? 'B' : 'A';
    EXPECT_THAT(refused(forged, "kakao", binding, now).detail, HasSubstr("not issued"));
    const auto other_keys = make_keyring(jwt_key{"k1", std::string(32, 'z')});
    EXPECT_THAT(
        refused(sign_state(new_state("kakao", binding, now), other_keys), "kakao", binding, now)
            .detail,
        HasSubstr("not issued"));
    // A token of another kind signed with the same keys never passes for a state.
    EXPECT_THAT(refused(sign_payload({{"jti", "x"}, {"exp", now + 100}, {"prv", "kakao"}}, keys),
                        "kakao", binding, now)
                    .detail,
                HasSubstr("not issued"));
}

TEST(oauth_provider, the_binding_cookie) {
    const auto b = new_binding();
    EXPECT_EQ(b.size(), 43u);
    EXPECT_EQ(binding_of("a=1; tkt_oauth2=" + b + "; c=3"), b);
    EXPECT_EQ(binding_of("tkt_oauth2=" + b), b);
    EXPECT_EQ(binding_of("tkt_oauth2=short"), "");
    EXPECT_EQ(binding_of(""), "");
    EXPECT_EQ(binding_set_cookie(b, cookie_security::secure),
              "tkt_oauth2=" + b +
                  "; Path=/api/v1/auth/oauth2; Max-Age=600; HttpOnly; SameSite=Lax; Secure");
    EXPECT_THAT(binding_set_cookie(b, cookie_security::plain), ::testing::Not(HasSubstr("Secure")));
}

TEST(oauth_provider, pkce_s256) {
    // BASE64URL(SHA256(ASCII(verifier))), the expected value computed apart with Python's
    // hashlib and base64.
    EXPECT_EQ(pkce_challenge("dBjftJeZ4CVP-mJ92K9pK1o6sR58g3TBR2rwi2GgdX0"),
              "DOhwIllJIAmou446J0tFGlSVBS71da6ur2vW10W_Uhk");
    const auto v = pkce_verifier("binding", "id");
    EXPECT_EQ(v.size(), 43u);
    EXPECT_EQ(v, pkce_verifier("binding", "id"));
    EXPECT_NE(v, pkce_verifier("binding", "id2"));
    EXPECT_NE(v, pkce_verifier("other", "id"));
}

TEST(oauth_provider, the_authorize_location) {
    auto p = resolve(settings("google"));
    p.authorize_url = "https://accounts.google.com/o/oauth2/v2/auth";
    const auto location = authorize_location(
        p, {.redirect_uri = "https://t.example/api/v1/auth/oauth2/google/callback",
            .state = "S.T.U",
            .code_challenge = "CH",
            .nonce = "N1"});
    const auto url = boost::urls::parse_absolute_uri(location).value();
    auto param = [&](std::string_view name) {
        const auto it = url.params().find(name);
        return it == url.params().end() ? std::string("<absent>") : std::string((*it).value);
    };
    EXPECT_EQ(url.host(), "accounts.google.com");
    EXPECT_EQ(param("response_type"), "code");
    EXPECT_EQ(param("client_id"), "the-client");
    EXPECT_EQ(param("redirect_uri"), "https://t.example/api/v1/auth/oauth2/google/callback");
    EXPECT_EQ(param("scope"), "openid email profile");
    EXPECT_EQ(param("state"), "S.T.U");
    EXPECT_EQ(param("code_challenge"), "CH");
    EXPECT_EQ(param("code_challenge_method"), "S256");
    EXPECT_EQ(param("nonce"), "N1");
    // Plain OAuth2 providers get no nonce.
    EXPECT_THAT(authorize_location(resolve(settings("kakao")), {.nonce = "N1"}),
                ::testing::Not(HasSubstr("nonce")));
}

TEST(oauth_provider, the_token_request) {
    const auto body =
        token_request_body(resolve(settings("naver")), "c/de", "http://x/cb", "VER", "ST");
    EXPECT_EQ(body,
              "grant_type=authorization_code&code=c%2Fde&redirect_uri=http%3A%2F%2Fx%2Fcb&client_"
              "id=the-client&code_verifier=VER&client_secret=the-secret&state=ST");
    auto pub = settings("kakao");
    pub.client_secret.clear();
    EXPECT_THAT(token_request_body(resolve(pub), "c", "r", "v", "s"),
                ::testing::Not(HasSubstr("client_secret")));
}

TEST(oauth_provider, token_answers) {
    const auto ok = read_token_answer(200, R"({"access_token":"AT","id_token":"ID"})");
    ASSERT_TRUE(ok.has_value());
    EXPECT_EQ(ok->access_token, "AT");
    EXPECT_EQ(ok->id_token, "ID");
    EXPECT_EQ(read_token_answer(400, R"({"error":"invalid_grant"})").error().code,
              problem_code::oauth_code_invalid);
    // Naver answers a refused code with 200.
    EXPECT_EQ(read_token_answer(200, R"({"error":"invalid_request","error_description":"no"})")
                  .error()
                  .code,
              problem_code::oauth_code_invalid);
    EXPECT_EQ(read_token_answer(401, R"({"error":"invalid_client"})").error().code,
              problem_code::oauth_provider_error);
    EXPECT_EQ(read_token_answer(200, "<html>").error().code, problem_code::oauth_provider_error);
    EXPECT_EQ(read_token_answer(200, "{}").error().code, problem_code::oauth_provider_error);
    EXPECT_EQ(read_profile_answer(401, "{}").error().code, problem_code::oauth_provider_error);
}

}  // namespace
}  // namespace tkt::auth::oauth
