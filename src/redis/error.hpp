#pragma once
// What a Redis call can end with besides a reply: an operating error (STYLE.md, Errors). The
// kind is stable and meant for branching; the message is one line for logs, and for a server
// error it is the server's own text ("ERR unknown command ...", "NOSCRIPT ...", "MOVED ...").
#include <expected>
#include <string>
#include <string_view>

namespace tkt::redis {

enum class errc {
    io,        // connecting, writing or reading failed; the command may or may not have run
    timeout,   // the request's deadline passed; the command may or may not have run
    protocol,  // the server sent bytes that are not RESP2 (or exceed the parser's limits)
    server,    // the server answered with an error reply; `message` is its text
};

struct error {
    errc code = errc::io;
    std::string message;
};

std::string_view to_string(errc code);

// The first word of a server error ("NOSCRIPT", "MOVED", "ERR"), or "" for other kinds.
std::string_view error_prefix(const error& e);

}  // namespace tkt::redis
