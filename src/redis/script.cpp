#include "redis/script.hpp"

#include <array>
#include <cstdint>

#include <openssl/evp.h>

#include "common/assert.hpp"
#include "common/encoding.hpp"

namespace tkt::redis {
namespace {

std::string sha1_hex(std::string_view text) {
    std::array<std::uint8_t, EVP_MAX_MD_SIZE> digest{};
    unsigned int size = 0;
    TKT_ASSERT(EVP_Digest(text.data(), text.size(), digest.data(), &size, EVP_sha1(), nullptr) ==
               1);
    return hex_encode(std::span<const std::uint8_t>(digest.data(), size));
}

// Runs `evalsha`; on NOSCRIPT loads the script and runs it again, once.
boost::asio::awaitable<result> eval_or_load(connection* c, const script* s, command evalsha) {
    auto first = co_await c->exec(evalsha);
    if (first || error_prefix(first.error()) != "NOSCRIPT") co_return first;
    const command load = command::of("SCRIPT", "LOAD", s->source());
    auto loaded = co_await c->exec(load);
    if (!loaded) co_return std::unexpected(loaded.error());
    if (loaded->text != s->sha1()) {
        co_return std::unexpected(
            error{errc::protocol, "SCRIPT LOAD answered " + loaded->text + ", not " + s->sha1()});
    }
    co_return co_await c->exec(evalsha);
}

}  // namespace

script::script(std::string source) : source_(std::move(source)), sha1_(sha1_hex(source_)) {}

command evalsha_command(const script& s, const std::vector<std::string>& keys,
                        const std::vector<std::string>& args) {
    command c = command::of("EVALSHA", s.sha1(), keys.size());
    c.args(keys).args(args);
    return c;
}

boost::asio::awaitable<result> eval(connection& c, const script& s,
                                    const std::vector<std::string>& keys,
                                    const std::vector<std::string>& args) {
    return eval_or_load(&c, &s, evalsha_command(s, keys, args));
}

}  // namespace tkt::redis
