#pragma once
// Maps (method, path) to a handler. Routes are fixed at start-up; matching is read-only and
// safe from every I/O thread at once. Patterns are literal segments and `{name}` captures:
// "/api/v1/admin/users/{id}". Sans-io: no sockets, no clock.
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.hpp"

namespace tkt::http {

// Which per-IP limiter, if any, guards a route.
enum class rate_limit_class { none, auth };

struct route_options {
    rate_limit_class rate_limit = rate_limit_class::none;
};

struct route {
    verb method = verb::get;
    std::string pattern;  // as registered; also the metrics label
    handler fn;
    route_options options;
    std::vector<std::string> segments;  // split pattern; "{x}" segments capture
    std::size_t captures = 0;           // how many of them capture
};

struct match_result {
    enum class kind { found, not_found, method_not_allowed } outcome = kind::not_found;
    const route* matched = nullptr;
    std::size_t index = 0;  // dense route index, for metrics
    std::vector<std::pair<std::string, std::string>> params;
    std::string allow;  // for 405: the methods the path accepts, e.g. "GET, PATCH"
};

class router {
public:
    void add(verb method, std::string pattern, handler fn, route_options options = {});
    match_result match(verb method, std::string_view path) const;
    const std::vector<route>& routes() const { return routes_; }
    // The handler for a GET that no route matches (the web UI's files and its client-side
    // routes). Without one such a GET is 404. It decides for itself what it does not serve.
    void set_fallback(handler fn) { fallback_ = std::move(fn); }
    const handler* fallback() const { return fallback_ ? &fallback_ : nullptr; }

    // No route has more segments; a longer path matches nothing.
    static constexpr std::size_t max_segments = 16;

private:
    std::vector<route> routes_;
    handler fallback_;
    // Route indices by segment count, in registration order: a path is compared only with the
    // routes as long as it is (a handful), not with every route.
    std::vector<std::vector<std::size_t>> by_length_;
};

}  // namespace tkt::http
