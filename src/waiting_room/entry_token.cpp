#include "waiting_room/entry_token.hpp"

#include <charconv>

#include <boost/json/object.hpp>

namespace tkt::waiting_room {

std::string_view to_string(entry_error e) {
    switch (e) {
        case entry_error::malformed:
            return "not a valid entry token";
        case entry_error::expired:
            return "the entry token has expired";
        case entry_error::wrong_event:
            return "the entry token is for another event";
        case entry_error::wrong_user:
            return "the entry token is another user's";
    }
    return "not a valid entry token";
}

std::string sign_entry(const entry_claims& c, const auth::keyring& keys, std::string_view issuer) {
    return auth::sign_payload(boost::json::object{{"typ", "entry"},
                                                  {"sub", std::to_string(c.user)},
                                                  {"evt", c.event},
                                                  {"seq", c.seq},
                                                  {"exp", unix_seconds(c.expires_at)},
                                                  {"iss", issuer}},
                              keys);
}

std::expected<entry_claims, entry_error> verify_entry(std::string_view token,
                                                      const auth::keyring& keys,
                                                      std::string_view issuer, event_id event,
                                                      user_id user, time_point now) {
    auto payload = auth::verify_payload(token, keys);
    if (!payload) return std::unexpected(entry_error::malformed);
    const auto* typ = payload->if_contains("typ");
    const auto* sub = payload->if_contains("sub");
    const auto* iss = payload->if_contains("iss");
    const auto evt = auth::int_claim(*payload, "evt");
    const auto seq = auth::int_claim(*payload, "seq");
    const auto exp = auth::int_claim(*payload, "exp");
    if (typ == nullptr || !typ->is_string() || typ->get_string() != "entry" || sub == nullptr ||
        !sub->is_string() || iss == nullptr || !iss->is_string() || iss->get_string() != issuer ||
        !evt || !seq || !exp || *seq < 1) {
        return std::unexpected(entry_error::malformed);
    }
    const auto& sub_text = sub->get_string();
    user_id sub_user = 0;
    auto [end, ec] = std::from_chars(sub_text.data(), sub_text.data() + sub_text.size(), sub_user);
    if (ec != std::errc{} || end != sub_text.data() + sub_text.size()) {
        return std::unexpected(entry_error::malformed);
    }
    if (*exp <= unix_seconds(now)) return std::unexpected(entry_error::expired);
    if (*evt != event) return std::unexpected(entry_error::wrong_event);
    if (sub_user != user) return std::unexpected(entry_error::wrong_user);
    return entry_claims{.user = sub_user,
                        .event = *evt,
                        .seq = *seq,
                        .expires_at = time_point{std::chrono::seconds{*exp}}};
}

}  // namespace tkt::waiting_room
