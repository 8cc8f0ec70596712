#pragma once
// The outgoing HTTP/1.1 client: Boost.Beast on C++20 coroutines, plain TCP or TLS (OpenSSL,
// system trust store plus client_options::ca_file, SNI, peer and host name verification always
// on).
//
// Every call has a deadline (client_request::timeout, 5 s unless set): resolving, connecting,
// the TLS handshake, writing and reading all happen inside it, and when it passes the call ends
// with client_errc::timeout. A call never throws for a remote failure; it returns a
// client_error that says whether the request may have reached the server (see request_sent),
// which is what a caller needs to decide whether repeating a non-idempotent request is safe.
//
// Connections are kept alive and reused, a few per scheme://host:port. A reused connection
// that the server had already closed fails before any answer arrives; such a call is repeated
// once on a fresh connection, but only when repeating is harmless: GET/HEAD, or a request that
// carries an Idempotency-Key header.
//
// Thread safety: one client may be used by any number of coroutines on any threads at once.
// Each connection runs on its own strand; the caller resumes on its own executor. The client
// must outlive the calls it has started. Beast stays inside client.cpp.
#include <chrono>
#include <cstddef>
#include <expected>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "http/message.hpp"

namespace tkt::http {

using header_list = std::vector<std::pair<std::string, std::string>>;

struct client_request {
    verb method = verb::get;
    std::string url;  // absolute: http://host[:port]/path?query or https://...
    header_list headers;
    std::string body;
    std::chrono::milliseconds timeout{5000};
};

struct client_response {
    int status = 0;
    header_list headers;
    std::string body;

    // A header's value, or "" when absent. Case-insensitive name.
    std::string_view header(std::string_view name) const;
};

enum class client_errc {
    bad_url,         // not an absolute http(s) URL
    resolve_failed,  // no address for the host
    connect_failed,  // refused, unreachable
    tls_failed,      // handshake or certificate verification
    send_failed,     // the connection broke while writing
    receive_failed,  // the connection broke before the whole answer arrived
    bad_response,    // an answer that is not valid HTTP/1.1, or larger than allowed
    timeout,         // the deadline passed
};

// Whether any byte of the request may have reached the server.
enum class request_sent { no, maybe };

struct client_error {
    client_errc code = client_errc::connect_failed;
    request_sent sent = request_sent::maybe;
    std::string message;  // one line, for logs
};

std::string_view to_string(client_errc code);

struct client_options {
    std::size_t max_body_bytes = 4 << 20;
    std::size_t idle_connections_per_host = 4;
    // Kept shorter than common server idle timeouts (ours is 30 s), so that a pooled
    // connection is rarely one the server is about to close.
    std::chrono::milliseconds idle_timeout{15'000};
    std::string user_agent = "ticketon";
    // Extra trust anchors (a PEM file) added to the system store, e.g. a private CA; empty: the
    // system store only. Peer and host name verification stay on either way.
    std::string ca_file;
};

class client {
public:
    // `executor`: where connections run (a strand of it each); normally the io_context's.
    // Throws boost::system::system_error when options.ca_file cannot be read.
    explicit client(boost::asio::any_io_executor executor, client_options options = {});
    ~client();
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    boost::asio::awaitable<std::expected<client_response, client_error>> request(client_request r);

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

// The value of an `Authorization: Basic` header for `user` and `password` (RFC 7617):
// "Basic " + base64(user ":" password), standard alphabet with padding.
std::string basic_authorization(std::string_view user, std::string_view password);

}  // namespace tkt::http
