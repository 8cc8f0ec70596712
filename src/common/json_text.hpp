#pragma once
// Appending JSON text directly, for the few answers sent so often that building a boost::json
// value first and serializing it costs more than the answer (a hold's 201). Everything else
// builds values.
#include <cstdint>
#include <string>
#include <string_view>

namespace tkt {

// `s` as a JSON string, quotes included: `"` and `\` escaped, control characters as \u00XX;
// other bytes as they are (UTF-8 passes through).
void append_json_string(std::string& out, std::string_view s);
void append_json_int(std::string& out, std::int64_t n);

}  // namespace tkt
