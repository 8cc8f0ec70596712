#pragma once
// Signed ticket codes (DESIGN.md §1 "Beyond the seed"): what a ticket's QR code carries and what
// the gate scans at check-in.
//
// A code is `TKT1.<ticketId>.<eventId>.<signature>`, plain ASCII so it fits a small QR code: the
// signature is Ed25519 (libsodium) over everything before the last dot, base64url without
// padding. A gate can therefore tell a forged or mistyped code from a real one before it asks the
// database, and the event id inside the code tells whose event the ticket is for.
//
// The key pair comes from `booking.ticket_keys` when configured (base64url 32-byte seeds; every
// node of a deployment is given the same, so a code signed on one scans on all) or else from
// `data_dir/ticket-signing.key` (one seed, mode 0600), generated once on the first start, so
// codes printed before a restart still scan after it. Rotation: the first configured key signs
// and every key verifies, so a new key is put first and an old one removed only once no ticket
// it signed can still be used. A `ticket_signer` is immutable after construction: sign() and
// verify() are safe from any thread at once.
#include <array>
#include <cstdint>
#include <expected>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tkt::booking {

inline constexpr std::string_view ticket_code_prefix = "TKT1";
inline constexpr std::string_view ticket_key_file_name = "ticket-signing.key";
inline constexpr std::size_t ticket_seed_bytes = 32;
// Ticket ids are what the order flow generates: 1..64 characters of [A-Za-z0-9_-], never a dot,
// so the code splits unambiguously.
inline constexpr std::size_t ticket_id_chars_max = 64;
// Longer than any code sign() can produce; longer input is rejected before any parsing.
inline constexpr std::size_t ticket_code_chars_max = 200;

struct parsed_code {
    std::string ticket_id;
    std::int64_t event_id = 0;

    friend bool operator==(const parsed_code&, const parsed_code&) = default;
};

// True for ids a code can carry (see ticket_id_chars_max).
bool valid_ticket_id(std::string_view id);

class ticket_signer {
public:
    // Derives the key pair from a 32-byte seed (the key file's content, or a configured secret).
    static std::expected<ticket_signer, std::string> from_seed(std::span<const std::uint8_t> seed);
    // The first seed signs; every seed's key verifies (key rotation). At least one seed.
    static std::expected<ticket_signer, std::string> from_seeds(
        const std::vector<std::vector<std::uint8_t>>& seeds);

    // The code for a ticket. `ticket_id` must satisfy valid_ticket_id and `event_id` be positive
    // (programmer errors otherwise: ids come from our own order flow).
    std::string sign(std::string_view ticket_id, std::int64_t event_id) const;

    // The ticket a code names, when the code is well-formed and its signature is ours; nullopt
    // for anything else (wrong prefix, extra or missing parts, bad characters, leading zeros,
    // a signature of the wrong length or by another key).
    std::optional<parsed_code> verify(std::string_view code) const;

    const std::array<std::uint8_t, 32>& public_key() const { return public_key_; }

private:
    ticket_signer() = default;

    std::array<std::uint8_t, 32> public_key_{};
    std::array<std::uint8_t, 64> secret_key_{};
    // The keys that only verify (older ones still accepted).
    std::vector<std::array<std::uint8_t, 32>> older_public_keys_;
};

// The signer whose seed is kept in `data_dir/ticket-signing.key`, creating the directory and the
// file (mode 0600) on the first call. Two processes starting at once agree on one key: the file
// is published with link(2), and the loser reads the winner's. Errors carry a one-line reason for
// start-up.
std::expected<ticket_signer, std::string> load_or_create_ticket_signer(
    const std::filesystem::path& data_dir);
// The configured keys (base64url seeds, `booking.ticket_keys`) when there are any, else the key
// file's as above.
std::expected<ticket_signer, std::string> load_ticket_signer(
    const std::vector<std::string>& configured, const std::filesystem::path& data_dir);

}  // namespace tkt::booking
