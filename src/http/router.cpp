#include "http/router.hpp"

#include <algorithm>
#include <cstdint>

#include "common/assert.hpp"

namespace tkt::http {
namespace {

bool is_capture(std::string_view segment) {
    return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

// Splits "/a/b/c" into {"a","b","c"}; a trailing slash adds no empty segment. Calls
// `take(segment)` for each; stops early when `take` returns false.
template <class Take>
void split_path(std::string_view path, Take take) {
    std::size_t pos = 0;
    if (!path.empty() && path.front() == '/') pos = 1;
    while (pos <= path.size()) {
        auto next = path.find('/', pos);
        if (next == std::string_view::npos) next = path.size();
        if (next > pos && !take(path.substr(pos, next - pos))) return;
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
    split_path(pattern, [&](std::string_view segment) {
        r.segments.emplace_back(segment);
        if (is_capture(segment)) ++r.captures;
        return true;
    });
    TKT_ASSERT(r.segments.size() <= max_segments);
    r.pattern = std::move(pattern);
    for (const auto& existing : routes_) {
        // Two identical routes would make one unreachable: a programming error.
        TKT_ASSERT(!(existing.method == method && existing.pattern == r.pattern));
    }
    if (by_length_.size() <= r.segments.size()) by_length_.resize(r.segments.size() + 1);
    by_length_[r.segments.size()].push_back(routes_.size());
    routes_.push_back(std::move(r));
}

match_result router::match(verb method, std::string_view path) const {
    std::array<std::string_view, max_segments> parts;
    std::size_t count = 0;
    bool too_long = false;
    split_path(path, [&](std::string_view segment) {
        if (count == parts.size()) {
            too_long = true;
            return false;
        }
        parts[count++] = segment;
        return true;
    });
    match_result result;
    if (too_long || count >= by_length_.size()) return result;

    const auto same_path = [&](const route& r) {
        for (std::size_t s = 0; s < count; ++s) {
            const bool same =
                is_capture(r.segments[s]) ? !parts[s].empty() : r.segments[s] == parts[s];
            if (!same) return false;
        }
        return true;
    };
    // A literal segment beats a capture: of the routes that match, the one with the fewest
    // captures wins ("/events/mine" before "/events/{id}").
    const auto& candidates = by_length_[count];
    for (std::size_t i : candidates) {
        const route& r = routes_[i];
        if (r.method != method ||
            (result.matched != nullptr && r.captures >= result.matched->captures))
            continue;
        if (!same_path(r)) continue;
        result.outcome = match_result::kind::found;
        result.matched = &r;
        result.index = i;
    }
    if (result.matched == nullptr) {
        // The path may exist under other methods: 405 with the ones it accepts, each once.
        std::vector<verb> allowed;
        for (std::size_t i : candidates) {
            const route& r = routes_[i];
            if (!same_path(r) ||
                std::find(allowed.begin(), allowed.end(), r.method) != allowed.end())
                continue;
            allowed.push_back(r.method);
            if (!result.allow.empty()) result.allow += ", ";
            result.allow += to_string(r.method);
            result.outcome = match_result::kind::method_not_allowed;
        }
        return result;
    }
    const route& r = *result.matched;
    for (std::size_t s = 0; s < count; ++s) {
        if (is_capture(r.segments[s])) {
            auto name = std::string_view(r.segments[s]).substr(1, r.segments[s].size() - 2);
            result.params.emplace_back(std::string(name),
                                       percent_decode(parts[s], plus_handling::keep));
        }
    }
    return result;
}

}  // namespace tkt::http
