#pragma once
// The bridge from a parsed Beast request to the Beast-free `http::request` that handlers see.
// Internal to the http module (and its fuzz target): domain code never includes this header.
// Sans-io: no sockets, usable on any thread.
#include <string_view>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "http/message.hpp"

namespace tkt::http::detail {

using beast_request = boost::beast::http::request<boost::beast::http::string_body>;

verb from_beast(boost::beast::http::verb v);

// A header of the Beast request behind `native` (a beast_request*), or "" when absent.
std::string_view lookup_header(const void* native, std::string_view name);

// Fills `out` from `in`: method, path and query (split at the first '?'), the body (moved out of
// `in`), and header access through `in`, which must outlive `out`.
void adopt(beast_request& in, request& out);

}  // namespace tkt::http::detail
