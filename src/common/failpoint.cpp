#include "common/failpoint.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace tkt {
namespace {

std::vector<std::string> armed_from_environment() {
    std::vector<std::string> names;
    const char* text = std::getenv("TICKETON_FAILPOINTS");
    if (text == nullptr) return names;
    std::string_view rest(text);
    while (!rest.empty()) {
        auto comma = rest.find(',');
        auto name = rest.substr(0, comma);
        if (!name.empty()) names.emplace_back(name);
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    }
    return names;
}

const std::vector<std::string>& armed() {
    static const std::vector<std::string> names = armed_from_environment();
    return names;
}

}  // namespace

bool failpoint_armed(std::string_view name) {
    for (const auto& a : armed()) {
        if (a == name) return true;
    }
    return false;
}

void failpoint(std::string_view name) {
    for (const auto& a : armed()) {
        if (a == name) {
            std::fprintf(stderr, "ticketon: failpoint %.*s: exiting\n",
                         static_cast<int>(name.size()), name.data());
            std::_Exit(137);
        }
    }
}

}  // namespace tkt
