#pragma once
// Password hashing with Argon2id (libsodium crypto_pwhash_str). Hashing and verifying are slow
// on purpose (tens of milliseconds, tens of MiB): call them from a DB or worker thread, never
// from an I/O thread. The stored string embeds its own algorithm and cost, so hashes made with
// an older cost still verify after the cost changes.
#include <optional>
#include <string>
#include <string_view>

namespace tkt::auth {

enum class password_cost {
    interactive,  // crypto_pwhash_*_INTERACTIVE: the default for the server
    moderate,     // crypto_pwhash_*_MODERATE
    min,          // crypto_pwhash_*_MIN: tests only, offers no protection
};

// The encoded Argon2id hash, or nullopt when libsodium could not allocate the memory it needs.
std::optional<std::string> hash_password(std::string_view password, password_cost cost);

enum class password_match { yes, no };

password_match verify_password(std::string_view password, std::string_view encoded_hash);

// A hash of a random password, checked against when the email is unknown so a login for a
// missing account costs as long as one for a real account (no timing oracle for emails).
const std::string& dummy_password_hash(password_cost cost);

}  // namespace tkt::auth
