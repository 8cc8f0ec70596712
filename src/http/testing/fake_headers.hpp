#pragma once
// For handler tests: requests whose headers come from a map instead of a Beast message, and a
// look-up of an answer's extra headers.
//   tkt::http::testing::headers_map headers{{"Authorization", "Bearer …"}};
//   req.bind_headers(&headers, tkt::http::testing::lookup_header);
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "http/message.hpp"

namespace tkt::http::testing {

using headers_map = std::map<std::string, std::string, std::less<>>;

// A request::header_lookup serving `native`, a headers_map (exact names).
inline std::string_view lookup_header(const void* native, std::string_view name) {
    const auto& headers = *static_cast<const headers_map*>(native);
    const auto it = headers.find(name);
    return it == headers.end() ? std::string_view{} : std::string_view{it->second};
}

// The value of one of the answer's extra headers, "" when absent.
inline std::string header_of(const response& r, std::string_view name) {
    for (const auto& [n, v] : r.headers) {
        if (n == name) return v;
    }
    return {};
}

}  // namespace tkt::http::testing
