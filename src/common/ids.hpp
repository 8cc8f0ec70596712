#pragma once
// Random public identifiers: a short prefix and 20 base62 characters (~119 bits), e.g.
// "ord_4fQ9x…". They fit Toss's orderId rule (6–64 characters of [A-Za-z0-9_-]) and reveal
// nothing about volume or order. Thread-safe (libsodium's randombytes).
#include <string>
#include <string_view>

namespace tkt {

std::string random_id(std::string_view prefix);

}  // namespace tkt
