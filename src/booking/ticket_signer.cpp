#include "booking/ticket_signer.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

#include <fmt/core.h>
#include <sodium.h>

#include "common/assert.hpp"
#include "common/encoding.hpp"
#include "common/key_file.hpp"

namespace tkt::booking {
namespace {

static_assert(crypto_sign_PUBLICKEYBYTES == 32);
static_assert(crypto_sign_SECRETKEYBYTES == 64);
static_assert(crypto_sign_SEEDBYTES == ticket_seed_bytes);
static_assert(crypto_sign_BYTES == 64);

bool id_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

// A positive decimal without sign or leading zeros, so one event id has exactly one spelling.
std::optional<std::int64_t> parse_event_id(std::string_view text) {
    if (text.empty() || text.front() == '0') return std::nullopt;
    std::int64_t v = 0;
    const auto* end = text.data() + text.size();
    const auto [p, ec] = std::from_chars(text.data(), end, v);
    if (ec != std::errc{} || p != end || v <= 0) return std::nullopt;
    return v;
}

// The parts of "TKT1.<id>.<event>.<sig>"; nullopt unless there are exactly four.
struct code_parts {
    std::string_view prefix, ticket_id, event_id, signature, signed_part;
};

std::optional<code_parts> split_code(std::string_view code) {
    std::array<std::string_view, 4> parts;
    std::size_t start = 0;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        const auto dot = code.find('.', start);
        const bool last = i + 1 == parts.size();
        if (last != (dot == std::string_view::npos)) return std::nullopt;
        parts[i] = code.substr(start, last ? std::string_view::npos : dot - start);
        start = dot + 1;
    }
    const auto signed_len = parts[0].size() + parts[1].size() + parts[2].size() + 2;
    return code_parts{parts[0], parts[1], parts[2], parts[3], code.substr(0, signed_len)};
}

std::string_view trim(std::string_view s) {
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return {};
    const auto last = s.find_last_not_of(" \t\r\n");
    return s.substr(first, last - first + 1);
}

}  // namespace

bool valid_ticket_id(std::string_view id) {
    if (id.empty() || id.size() > ticket_id_chars_max) return false;
    for (const char c : id) {
        if (!id_char(c)) return false;
    }
    return true;
}

std::expected<ticket_signer, std::string> ticket_signer::from_seed(
    std::span<const std::uint8_t> seed) {
    if (seed.size() != ticket_seed_bytes) {
        return std::unexpected(fmt::format("a ticket signing seed is {} bytes, not {}",
                                           ticket_seed_bytes, seed.size()));
    }
    ensure_sodium();
    ticket_signer signer;
    if (crypto_sign_seed_keypair(signer.public_key_.data(), signer.secret_key_.data(),
                                 seed.data()) != 0) {
        return std::unexpected(std::string{"cannot derive the ticket signing key pair"});
    }
    return signer;
}

std::expected<ticket_signer, std::string> ticket_signer::from_seeds(
    const std::vector<std::vector<std::uint8_t>>& seeds) {
    if (seeds.empty()) return std::unexpected(std::string{"no ticket signing key"});
    auto signer = from_seed(seeds.front());
    if (!signer) return signer;
    for (std::size_t i = 1; i < seeds.size(); ++i) {
        auto older = from_seed(seeds[i]);
        if (!older) return older;
        signer->older_public_keys_.push_back(older->public_key_);
    }
    return signer;
}

std::string ticket_signer::sign(std::string_view ticket_id, std::int64_t event_id) const {
    TKT_ASSERT(valid_ticket_id(ticket_id));
    TKT_ASSERT(event_id > 0);
    std::string code = fmt::format("{}.{}.{}", ticket_code_prefix, ticket_id, event_id);
    std::array<std::uint8_t, crypto_sign_BYTES> signature{};
    const auto message = as_bytes(code);
    crypto_sign_detached(signature.data(), nullptr, message.data(), message.size(),
                         secret_key_.data());
    code += '.';
    code += base64url_encode(signature);
    return code;
}

std::optional<parsed_code> ticket_signer::verify(std::string_view code) const {
    if (code.size() > ticket_code_chars_max) return std::nullopt;
    const auto parts = split_code(code);
    if (!parts || parts->prefix != ticket_code_prefix || !valid_ticket_id(parts->ticket_id)) {
        return std::nullopt;
    }
    const auto event_id = parse_event_id(parts->event_id);
    if (!event_id) return std::nullopt;
    const auto signature = base64url_decode(parts->signature);
    if (!signature || signature->size() != crypto_sign_BYTES) return std::nullopt;
    const auto message = as_bytes(parts->signed_part);
    // libsodium also refuses non-canonical signatures, so one ticket has exactly one valid code.
    const auto signed_by = [&](const std::array<std::uint8_t, 32>& key) {
        return crypto_sign_verify_detached(signature->data(), message.data(), message.size(),
                                           key.data()) == 0;
    };
    if (!signed_by(public_key_) && std::ranges::none_of(older_public_keys_, signed_by)) {
        return std::nullopt;
    }
    return parsed_code{.ticket_id = std::string{parts->ticket_id}, .event_id = *event_id};
}

std::expected<ticket_signer, std::string> load_or_create_ticket_signer(
    const std::filesystem::path& data_dir) {
    const auto path = data_dir / ticket_key_file_name;
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        std::filesystem::create_directories(data_dir, ec);
        if (ec) {
            return std::unexpected(
                fmt::format("cannot create {}: {}", data_dir.string(), ec.message()));
        }
        const auto seed = random_bytes(ticket_seed_bytes);
        if (auto published = publish_key_file(path, base64url_encode(seed) + "\n"); !published) {
            return std::unexpected(published.error());
        }
    }
    const auto text = read_text_file(path);
    if (!text) return std::unexpected(text.error());
    const auto seed = base64url_decode(trim(*text));
    if (!seed || seed->size() != ticket_seed_bytes) {
        return std::unexpected(
            fmt::format("{}: expected a base64url {}-byte seed", path.string(), ticket_seed_bytes));
    }
    return ticket_signer::from_seed(*seed);
}

std::expected<ticket_signer, std::string> load_ticket_signer(
    const std::vector<std::string>& configured, const std::filesystem::path& data_dir) {
    if (configured.empty()) return load_or_create_ticket_signer(data_dir);
    std::vector<std::vector<std::uint8_t>> seeds;
    for (std::size_t i = 0; i < configured.size(); ++i) {
        auto seed = base64url_decode(trim(configured[i]));
        if (!seed || seed->size() != ticket_seed_bytes) {
            return std::unexpected(
                fmt::format("booking.ticket_keys: key {} is not a base64url {}-byte seed", i + 1,
                            ticket_seed_bytes));
        }
        seeds.push_back(std::move(*seed));
    }
    return ticket_signer::from_seeds(seeds);
}

}  // namespace tkt::booking
