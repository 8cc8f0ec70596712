#include "redis/error.hpp"

namespace tkt::redis {

std::string_view to_string(errc code) {
    switch (code) {
        case errc::io:
            return "io";
        case errc::timeout:
            return "timeout";
        case errc::protocol:
            return "protocol";
        case errc::server:
            return "server";
    }
    return "unknown";
}

std::string_view error_prefix(const error& e) {
    if (e.code != errc::server) return {};
    std::string_view text = e.message;
    return text.substr(0, text.find(' '));
}

}  // namespace tkt::redis
