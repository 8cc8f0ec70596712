#pragma once
// Social login, the I/O half (issue 15): carries out what oauth_provider and oidc decide. It
// owns the trip to each provider (discovery, keys, token exchange, profile) over the shared
// outgoing http::client, every call with a deadline, and hands the person it learns about to
// auth::service::sign_in_external, which finds, links or makes the account in one transaction.
//
// Threads: every coroutine may be awaited from any I/O thread at once. Its only state of its
// own is the cache of each OpenID provider's discovery document and keys, under a mutex that is
// never held across a co_await. A state is spent (its id written to the database) before the
// code is exchanged, so a callback replayed by anyone, at any node, is refused.
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "auth/oauth_provider.hpp"
#include "auth/oidc.hpp"
#include "auth/service.hpp"
#include "http/client.hpp"

namespace tkt::auth::oauth {

struct service_options {
    std::vector<provider> providers;
    // The URL users reach, scheme://host[:port] without a trailing '/': the providers send the
    // browser back to <public_url>/api/v1/auth/oauth2/<name>/callback.
    std::string public_url;
    // The deadline of each call to a provider.
    std::chrono::milliseconds timeout{5000};
};

struct start_answer {
    std::string location;  // the provider's authorization URL with our parameters
};

struct callback_params {
    std::string provider;
    std::string code;
    std::string state;
    std::string error;    // the provider's `error` parameter: the person refused, or it failed
    std::string binding;  // the browser's cookie value
};

class service {
public:
    service(http::client& client, db::database& db, auth::service& accounts, const clock& clk,
            keyring keys, service_options options);

    const provider* find(std::string_view name) const;
    const service_options& options() const { return options_; }
    std::string redirect_uri(std::string_view name) const;

    // Where to send the browser holding `binding` to sign in with `name`; 404 for a provider
    // that is not configured, 503 when an OpenID provider's discovery cannot be read.
    boost::asio::awaitable<result<start_answer>> start(std::string name, std::string binding);
    // The provider's answer: state and cookie checked, code exchanged, profile read (and ID
    // token verified), account found or made, our token pair issued.
    boost::asio::awaitable<result<session>> finish(callback_params params);

private:
    struct openid {
        oidc::discovery where;
        std::shared_ptr<const oidc::jwk_set> keys;
        std::chrono::steady_clock::time_point fetched;
    };
    enum class key_refresh { if_missing, always };

    // The provider with the endpoints discovery gave it, when it is an OpenID one.
    boost::asio::awaitable<result<provider>> effective(const provider& p);
    boost::asio::awaitable<result<openid>> discover(const provider& p, key_refresh refresh);
    boost::asio::awaitable<result<http::client_response>> call(std::string_view provider_name,
                                                               http::client_request req);
    boost::asio::awaitable<result<boost::json::object>> identity_claims(const provider& p,
                                                                        const token_answer& tokens,
                                                                        const state_claims& state);
    boost::asio::awaitable<result<void>> spend(const state_claims& state);

    http::client& client_;
    db::database& db_;
    auth::service& accounts_;
    const clock& clock_;
    keyring keys_;
    service_options options_;
    std::mutex mutex_;
    std::map<std::string, openid, std::less<>> openid_;  // under mutex_
};

}  // namespace tkt::auth::oauth
