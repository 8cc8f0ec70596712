#pragma once
// Entry tokens (DESIGN.md §6): what an admitted user shows in `Queue-Token` to take a hold. A
// JWT (HS256, the access tokens' keyring) whose payload is
//   {"typ": "entry", "sub": "<user id>", "evt": <event id>, "seq": <seq>, "exp": <unix s>,
//    "iss": <issuer>}
// so it is bound to one user, one event and one place in line. Without `role` it is never an
// access token; an access token, without `typ`, `evt` and `seq`, is never an entry token.
// Sans-io: time is passed in.
#include <expected>
#include <string>
#include <string_view>

#include "auth/jwt.hpp"
#include "waiting_room/room.hpp"

namespace tkt::waiting_room {

struct entry_claims {
    user_id user = 0;
    event_id event = 0;
    seq_t seq = 0;
    time_point expires_at{};  // whole seconds
};

enum class entry_error {
    malformed,  // not a token, bad signature, unknown key, not an entry token
    expired,
    wrong_event,
    wrong_user,
};

std::string_view to_string(entry_error e);

std::string sign_entry(const entry_claims& c, const auth::keyring& keys, std::string_view issuer);

// The token's claims when it is a well-signed, unexpired entry token from `issuer` for `event`
// and `user`.
std::expected<entry_claims, entry_error> verify_entry(std::string_view token,
                                                      const auth::keyring& keys,
                                                      std::string_view issuer, event_id event,
                                                      user_id user, time_point now);

}  // namespace tkt::waiting_room
