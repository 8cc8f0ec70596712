#pragma once
// Structured logging: one JSON object per line on stderr (DESIGN.md §9), e.g.
//   {"ts":"2026-11-30T03:05:15.123Z","level":"info","event":"http.request","status":200}
//
// We build each line with Boost.JSON so every value is escaped, and hand the finished text to
// spdlog with the pattern "%v", which only adds the newline; spdlog's multi-threaded sinks keep
// lines whole when several threads log at once. Any thread may log at any time. `init` and
// `init_with_sink` are meant for start-up, but are safe to call while others log.
//
// A disabled level costs one relaxed atomic load when the fields are passed lazily:
//   log::debug("queue.tick", [&] { return boost::json::object{{"waiting", n}}; });
// or through TKT_LOG(debug, "queue.tick", {{"waiting", n}}), which skips building the object.
#include <concepts>
#include <cstdint>
#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <spdlog/common.h>

#include <boost/json/object.hpp>

namespace tkt::log {

enum class level { trace, debug, info, warn, error, off };

// "trace", "debug", "info", "warn", "error" or "off"; std::nullopt for anything else.
std::optional<level> parse_level(std::string_view text);
std::string_view to_string(level lvl);

// Log to stderr from now on, at `level_text` and above; an error names a bad level.
std::expected<void, std::string> init(std::string_view level_text);
// Log to `sink` instead (tests capture the output this way).
void init_with_sink(spdlog::sink_ptr sink, level lvl);
void set_level(level lvl);

bool enabled(level lvl);

// Writes one line: ts, level and event first, then the fields in their order. A field named
// ts, level or event is dropped rather than allowed to hide the real one.
void write(level lvl, std::string_view event, const boost::json::object& fields);

// The line `write` would log at time `unix_ms`; exposed so tests can check the format exactly.
std::string format_line(std::int64_t unix_ms, level lvl, std::string_view event,
                        const boost::json::object& fields);

namespace detail {
template <class F>
void write_lazy(level lvl, std::string_view event, F&& make_fields) {
    if (enabled(lvl)) {
        write(lvl, event, std::forward<F>(make_fields)());
    }
}
}  // namespace detail

inline void trace(std::string_view event, const boost::json::object& fields = {}) {
    if (enabled(level::trace)) write(level::trace, event, fields);
}
inline void debug(std::string_view event, const boost::json::object& fields = {}) {
    if (enabled(level::debug)) write(level::debug, event, fields);
}
inline void info(std::string_view event, const boost::json::object& fields = {}) {
    if (enabled(level::info)) write(level::info, event, fields);
}
inline void warn(std::string_view event, const boost::json::object& fields = {}) {
    if (enabled(level::warn)) write(level::warn, event, fields);
}
inline void error(std::string_view event, const boost::json::object& fields = {}) {
    if (enabled(level::error)) write(level::error, event, fields);
}

// The lazy forms: `make_fields` runs only when the level is enabled.
template <std::invocable F>
void trace(std::string_view event, F&& make_fields) {
    detail::write_lazy(level::trace, event, std::forward<F>(make_fields));
}
template <std::invocable F>
void debug(std::string_view event, F&& make_fields) {
    detail::write_lazy(level::debug, event, std::forward<F>(make_fields));
}
template <std::invocable F>
void info(std::string_view event, F&& make_fields) {
    detail::write_lazy(level::info, event, std::forward<F>(make_fields));
}
template <std::invocable F>
void warn(std::string_view event, F&& make_fields) {
    detail::write_lazy(level::warn, event, std::forward<F>(make_fields));
}
template <std::invocable F>
void error(std::string_view event, F&& make_fields) {
    detail::write_lazy(level::error, event, std::forward<F>(make_fields));
}

}  // namespace tkt::log

// TKT_LOG(info, "http.request", {{"status", 200}}) builds the fields only when info is enabled.
#define TKT_LOG(lvl, event, ...)                                             \
    do {                                                                     \
        if (::tkt::log::enabled(::tkt::log::level::lvl)) {                   \
            ::tkt::log::write(::tkt::log::level::lvl, (event), __VA_ARGS__); \
        }                                                                    \
    } while (false)
