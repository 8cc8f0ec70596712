// Fuzzes the reading of JSON request bodies: tkt::parse_json_body on the bytes, then every reader
// of tkt::json_body on the fields handlers ask for and on every key the body has, then the account
// validators (auth/validation.hpp) on every string found, and on the raw bytes, which need not be
// UTF-8.
//
// Properties checked besides "no crash, no sanitizer report":
// - a failure is always VALIDATION_FAILED naming the field read ("body" for the parse);
// - the required and optional readers agree: the required one succeeds exactly when the optional
//   one finds a value, with the same value, and "absent" means find() returns nullptr;
// - what the validators accept is within their documented bounds, and normalising twice changes
//   nothing.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "auth/validation.hpp"
#include "common/assert.hpp"
#include "common/json_body.hpp"
#include "common/problem.hpp"

namespace {

// Bounds the work per input.
constexpr std::size_t keys_max = 32;
constexpr std::size_t strings_max = 64;
constexpr std::size_t raw_bytes_max = 512;

// The fields the handlers of DESIGN.md §7 read.
constexpr std::string_view known_fields[] = {"email",
                                             "password",
                                             "name",
                                             "refreshToken",
                                             "role",
                                             "disabled",
                                             "locked",
                                             "seats",
                                             "zone",
                                             "quantity",
                                             "amount",
                                             "orderId",
                                             "paymentKey",
                                             "status",
                                             "code",
                                             "reason",
                                             "userId",
                                             "eventId",
                                             "title",
                                             "body",
                                             "data",
                                             "newPassword",
                                             "currentPassword",
                                             "outcome",
                                             ""};

void check_failure(const tkt::problem& p, std::string_view field) {
    TKT_ASSERT(p.code == tkt::problem_code::validation_failed);
    TKT_ASSERT(p.field == field);
    TKT_ASSERT(p.status() == 400);
}

// The required reader fails where the optional one finds nothing or the wrong type, and
// otherwise returns the same value.
template <class T>
void check_readers(const tkt::result<std::optional<T>>& optional, const tkt::result<T>& required,
                   std::string_view field, const boost::json::value* found) {
    if (!optional) {
        TKT_ASSERT(found != nullptr);
        check_failure(optional.error(), field);
        TKT_ASSERT(!required);
        check_failure(required.error(), field);
        return;
    }
    if (!optional->has_value()) {
        TKT_ASSERT(found == nullptr);
        TKT_ASSERT(!required);
        check_failure(required.error(), field);
        return;
    }
    TKT_ASSERT(found != nullptr);
    TKT_ASSERT(required && *required == **optional);
}

void check_field(const tkt::json_body& body, std::string_view field) {
    const boost::json::value* found = body.find(field);
    const boost::json::value* raw = body.object().if_contains(field);
    TKT_ASSERT(found == (raw != nullptr && !raw->is_null() ? raw : nullptr));

    auto text = body.optional_string(field);
    check_readers(text, body.required_string(field), field, found);
    if (text && *text) TKT_ASSERT(found->is_string() && found->get_string() == **text);

    auto number = body.optional_int(field);
    check_readers(number, body.required_int(field), field, found);
    if (number && *number) TKT_ASSERT(found->is_int64() || found->is_uint64());

    auto flag = body.optional_bool(field);
    check_readers(flag, body.required_bool(field), field, found);
    if (flag && *flag) TKT_ASSERT(found->is_bool() && found->get_bool() == **flag);

    auto list = body.required_array(field);
    if (list) {
        TKT_ASSERT(found != nullptr && found->is_array() && *list == &found->get_array());
    } else {
        check_failure(list.error(), field);
        TKT_ASSERT(found == nullptr || !found->is_array());
    }

    auto nested = body.optional_object(field);
    if (nested) {
        TKT_ASSERT(*nested == (found != nullptr ? found->if_object() : nullptr));
    } else {
        check_failure(nested.error(), field);
        TKT_ASSERT(found != nullptr && !found->is_object());
    }
}

// Every string value and key in the body, depth first, up to strings_max.
void collect_strings(const boost::json::value& v, std::vector<std::string_view>& out) {
    if (out.size() >= strings_max) return;
    if (const auto* s = v.if_string()) {
        out.emplace_back(*s);
    } else if (const auto* a = v.if_array()) {
        for (const auto& item : *a) collect_strings(item, out);
    } else if (const auto* o = v.if_object()) {
        for (const auto& member : *o) {
            if (out.size() < strings_max) out.push_back(member.key());
            collect_strings(member.value(), out);
        }
    }
}

bool has_control_char(std::string_view s) {
    return std::any_of(s.begin(), s.end(),
                       [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; });
}

void check_validators(std::string_view text) {
    using namespace tkt::auth;
    if (auto email = normalize_email(text); email) {
        TKT_ASSERT(!email->empty() && email->size() <= email_chars_max);
        TKT_ASSERT(std::count(email->begin(), email->end(), '@') == 1);
        TKT_ASSERT(std::none_of(email->begin(), email->end(),
                                [](char c) { return c >= 'A' && c <= 'Z'; }));
        auto again = normalize_email(*email);
        TKT_ASSERT(again && *again == *email);
    } else {
        check_failure(email.error(), "email");
    }

    const std::size_t length = utf8_length(text);
    if (auto password = check_password(text, "newPassword"); password) {
        TKT_ASSERT(length >= password_chars_min && length <= password_chars_max);
    } else {
        check_failure(password.error(), "newPassword");
    }

    if (auto name = normalize_name(text); name) {
        const std::size_t name_length = utf8_length(*name);
        TKT_ASSERT(name_length >= 1 && name_length <= name_chars_max);
        TKT_ASSERT(!has_control_char(*name));
        auto again = normalize_name(*name);
        TKT_ASSERT(again && *again == *name);
    } else {
        check_failure(name.error(), "name");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    if (size <= raw_bytes_max) check_validators(input);

    auto body = tkt::parse_json_body(input);
    if (!body) {
        check_failure(body.error(), "body");
        return 0;
    }
    for (auto field : known_fields) check_field(*body, field);
    std::size_t keys = 0;
    for (const auto& member : body->object()) {
        if (++keys > keys_max) break;
        check_field(*body, member.key());
    }

    std::vector<std::string_view> strings;
    for (const auto& member : body->object()) {
        if (strings.size() >= strings_max) break;
        strings.push_back(member.key());
        collect_strings(member.value(), strings);
    }
    for (auto s : strings) {
        // Boost.JSON accepts only valid UTF-8, which the validators must count as such.
        TKT_ASSERT(tkt::auth::utf8_length(s) != std::string_view::npos);
        check_validators(s);
    }
    return 0;
}
