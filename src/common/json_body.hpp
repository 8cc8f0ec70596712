#pragma once
// Reads a request's JSON body field by field, turning every shape error into a 400
// VALIDATION_FAILED problem that names the field at fault (DESIGN.md §7). Any module's handlers
// may use it; it holds a parsed copy of the body and does no I/O.
//
//   auto body = parse_json_body(req.body);                  // "body" when malformed / not an
//   object if (!body) return problem_response(body.error()); auto email =
//   body->required_string("email");            // "email" when missing or not a string auto name =
//   body->optional_string("name");              // nullopt when absent or null
//
// JSON `null` counts as absent for the optional readers and as missing for the required ones.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "common/problem.hpp"

namespace tkt {

class json_body {
public:
    explicit json_body(boost::json::object object) : object_(std::move(object)) {}

    result<std::string> required_string(std::string_view field) const;
    result<std::optional<std::string>> optional_string(std::string_view field) const;
    result<std::int64_t> required_int(std::string_view field) const;
    result<std::optional<std::int64_t>> optional_int(std::string_view field) const;
    result<bool> required_bool(std::string_view field) const;
    result<std::optional<bool>> optional_bool(std::string_view field) const;
    // Arrays and objects are handed back as views into the body for the caller to walk.
    result<const boost::json::array*> required_array(std::string_view field) const;
    result<const boost::json::object*> optional_object(std::string_view field) const;

    // The field's value, or nullptr when absent or null.
    const boost::json::value* find(std::string_view field) const;
    const boost::json::object& object() const { return object_; }

private:
    boost::json::object object_;
};

// Parses `text` as a JSON object; anything else is VALIDATION_FAILED on the field "body".
result<json_body> parse_json_body(std::string_view text);

}  // namespace tkt
