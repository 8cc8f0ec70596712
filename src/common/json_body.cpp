#include "common/json_body.hpp"

#include <limits>

#include <boost/json/parse.hpp>

namespace tkt {
namespace {

std::string field_name(std::string_view field) {
    return std::string{field};
}

problem missing(std::string_view field) {
    return validation_error(field_name(field), "is required");
}

problem wrong_type(std::string_view field, std::string_view expected) {
    return validation_error(field_name(field), "must be " + std::string{expected});
}

// An integral JSON number as int64; doubles are refused even when whole, so "1.0" and "1e3"
// do not slip into integer fields unnoticed.
std::optional<std::int64_t> as_int64(const boost::json::value& v) {
    if (v.is_int64()) return v.get_int64();
    if (v.is_uint64() &&
        v.get_uint64() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return static_cast<std::int64_t>(v.get_uint64());
    }
    return std::nullopt;
}

}  // namespace

result<json_body> parse_json_body(std::string_view text) {
    boost::system::error_code ec;
    boost::json::value parsed = boost::json::parse(text, ec);
    if (ec) return std::unexpected(validation_error("body", "must be valid JSON"));
    if (!parsed.is_object())
        return std::unexpected(validation_error("body", "must be a JSON object"));
    return json_body{std::move(parsed.as_object())};
}

const boost::json::value* json_body::find(std::string_view field) const {
    const auto* v = object_.if_contains(field);
    if (v == nullptr || v->is_null()) return nullptr;
    return v;
}

result<std::optional<std::string>> json_body::optional_string(std::string_view field) const {
    const auto* v = find(field);
    if (v == nullptr) return std::optional<std::string>{};
    if (!v->is_string()) return std::unexpected(wrong_type(field, "a string"));
    return std::optional<std::string>{std::string{v->get_string()}};
}

result<std::string> json_body::required_string(std::string_view field) const {
    auto v = optional_string(field);
    if (!v) return std::unexpected(std::move(v.error()));
    if (!*v) return std::unexpected(missing(field));
    return std::move(**v);
}

result<std::optional<std::int64_t>> json_body::optional_int(std::string_view field) const {
    const auto* v = find(field);
    if (v == nullptr) return std::optional<std::int64_t>{};
    const auto n = as_int64(*v);
    if (!n) return std::unexpected(wrong_type(field, "an integer"));
    return n;
}

result<std::int64_t> json_body::required_int(std::string_view field) const {
    auto v = optional_int(field);
    if (!v) return std::unexpected(std::move(v.error()));
    if (!*v) return std::unexpected(missing(field));
    return **v;
}

result<std::optional<bool>> json_body::optional_bool(std::string_view field) const {
    const auto* v = find(field);
    if (v == nullptr) return std::optional<bool>{};
    if (!v->is_bool()) return std::unexpected(wrong_type(field, "true or false"));
    return std::optional<bool>{v->get_bool()};
}

result<bool> json_body::required_bool(std::string_view field) const {
    auto v = optional_bool(field);
    if (!v) return std::unexpected(std::move(v.error()));
    if (!*v) return std::unexpected(missing(field));
    return **v;
}

result<const boost::json::array*> json_body::required_array(std::string_view field) const {
    const auto* v = find(field);
    if (v == nullptr) return std::unexpected(missing(field));
    if (!v->is_array()) return std::unexpected(wrong_type(field, "an array"));
    return &v->get_array();
}

result<const boost::json::object*> json_body::optional_object(std::string_view field) const {
    const auto* v = find(field);
    if (v == nullptr) return static_cast<const boost::json::object*>(nullptr);
    if (!v->is_object()) return std::unexpected(wrong_type(field, "an object"));
    return &v->get_object();
}

}  // namespace tkt
