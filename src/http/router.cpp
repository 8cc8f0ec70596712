#include "http/router.hpp"

#include <cstdint>

#include "common/assert.hpp"

namespace tkt::http {
namespace {

bool is_capture(std::string_view segment) {
    return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

// Splits "/a/b/c" into {"a","b","c"}; a trailing slash adds no empty segment.
template <class Out>
void split_path(std::string_view path, Out& out) {
    std::size_t pos = 0;
    if (!path.empty() && path.front() == '/') pos = 1;
    while (pos <= path.size()) {
        auto next = path.find('/', pos);
        if (next == std::string_view::npos) next = path.size();
        if (next > pos) out.emplace_back(path.substr(pos, next - pos));
        pos = next + 1;
    }
}

}  // namespace

void router::add(verb method, std::string pattern, handler fn, route_options options) {
    TKT_ASSERT(!pattern.empty() && pattern.front() == '/');
    route r;
    r.method = method;
    r.fn = std::move(fn);
    r.options = options;
    split_path(pattern, r.segments);
    r.pattern = std::move(pattern);
    for (const auto& existing : routes_) {
        // Two identical routes would make one unreachable: a programming error.
        TKT_ASSERT(!(existing.method == method && existing.pattern == r.pattern));
    }
    routes_.push_back(std::move(r));
}

match_result router::match(verb method, std::string_view path) const {
    std::vector<std::string_view> parts;
    parts.reserve(8);
    split_path(path, parts);

    // A literal segment beats a capture: of the routes that match, the one with the fewest
    // captures wins ("/events/mine" before "/events/{id}").
    match_result result;
    std::size_t best_captures = SIZE_MAX;
    for (std::size_t i = 0; i < routes_.size(); ++i) {
        const route& r = routes_[i];
        if (r.segments.size() != parts.size()) continue;
        std::size_t captures = 0;
        bool same = true;
        for (std::size_t s = 0; s < parts.size() && same; ++s) {
            if (is_capture(r.segments[s])) {
                ++captures;
                same = !parts[s].empty();
            } else {
                same = r.segments[s] == parts[s];
            }
        }
        if (!same) continue;
        if (r.method != method) {
            if (result.outcome != match_result::kind::found) {
                if (!result.allow.empty()) result.allow += ", ";
                result.allow += to_string(r.method);
                result.outcome = match_result::kind::method_not_allowed;
            }
            continue;
        }
        if (captures >= best_captures) continue;
        best_captures = captures;
        result.outcome = match_result::kind::found;
        result.matched = &r;
        result.index = i;
    }
    if (result.outcome != match_result::kind::found) return result;
    result.allow.clear();
    const route& r = *result.matched;
    for (std::size_t s = 0; s < parts.size(); ++s) {
        if (is_capture(r.segments[s])) {
            auto name = std::string_view(r.segments[s]).substr(1, r.segments[s].size() - 2);
            result.params.emplace_back(std::string(name), percent_decode(parts[s], plus_handling::keep));
        }
    }
    return result;
}

}  // namespace tkt::http
