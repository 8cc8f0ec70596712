#include "auth/password.hpp"

#include <array>
#include <mutex>

#include <sodium.h>

#include "common/encoding.hpp"

namespace tkt::auth {
namespace {

struct limits {
    unsigned long long ops;
    std::size_t mem;
};

limits limits_of(password_cost cost) {
    switch (cost) {
        case password_cost::interactive:
            return {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE};
        case password_cost::moderate:
            return {crypto_pwhash_OPSLIMIT_MODERATE, crypto_pwhash_MEMLIMIT_MODERATE};
        case password_cost::min:
            return {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN};
    }
    return {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE};
}

}  // namespace

std::optional<std::string> hash_password(std::string_view password, password_cost cost) {
    ensure_sodium();
    const auto l = limits_of(cost);
    std::array<char, crypto_pwhash_STRBYTES> out{};
    if (crypto_pwhash_str_alg(out.data(), password.data(), password.size(), l.ops, l.mem,
                              crypto_pwhash_ALG_ARGON2ID13) != 0) {
        return std::nullopt;
    }
    return std::string{out.data()};
}

password_match verify_password(std::string_view password, std::string_view encoded_hash) {
    ensure_sodium();
    // crypto_pwhash_str_verify wants a NUL-terminated string that fits its buffer.
    if (encoded_hash.empty() || encoded_hash.size() >= crypto_pwhash_STRBYTES)
        return password_match::no;
    std::array<char, crypto_pwhash_STRBYTES> stored{};
    encoded_hash.copy(stored.data(), encoded_hash.size());
    return crypto_pwhash_str_verify(stored.data(), password.data(), password.size()) == 0
               ? password_match::yes
               : password_match::no;
}

const std::string& dummy_password_hash(password_cost cost) {
    static std::once_flag once[3];
    static std::string hashes[3];
    const auto i = static_cast<std::size_t>(cost);
    std::call_once(once[i], [&] {
        const auto random = hex_encode(random_bytes(16));
        hashes[i] = hash_password(random, cost).value_or(std::string{});
    });
    return hashes[i];
}

}  // namespace tkt::auth
