#include "common/log.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <utility>

#include <fmt/format.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <boost/json/serialize.hpp>

namespace tkt::log {
namespace {

constexpr std::array<std::string_view, 6> level_names = {"trace", "debug", "info",
                                                         "warn",  "error", "off"};

spdlog::level::level_enum to_spdlog(level lvl) {
    switch (lvl) {
        case level::trace:
            return spdlog::level::trace;
        case level::debug:
            return spdlog::level::debug;
        case level::info:
            return spdlog::level::info;
        case level::warn:
            return spdlog::level::warn;
        case level::error:
            return spdlog::level::err;
        case level::off:
            return spdlog::level::off;
    }
    return spdlog::level::off;
}

std::shared_ptr<spdlog::logger> make_logger(spdlog::sink_ptr sink) {
    auto logger = std::make_shared<spdlog::logger>("ticketon", std::move(sink));
    // The line is complete JSON already; spdlog only appends the end of line.
    logger->set_pattern("%v");
    // Filtering happens in enabled(); spdlog passes everything it is given.
    logger->set_level(spdlog::level::trace);
    // A crash must not lose the lines that explain it.
    logger->flush_on(spdlog::level::trace);
    return logger;
}

// Held in an atomic so that re-initialising never races with threads that are logging.
std::atomic<std::shared_ptr<spdlog::logger>>& current_logger() {
    static std::atomic<std::shared_ptr<spdlog::logger>> logger{
        make_logger(std::make_shared<spdlog::sinks::stderr_sink_mt>())};
    return logger;
}

std::atomic<level> current_level{level::info};

// RFC 3339 in UTC with milliseconds, the form log tools parse without configuration.
std::string format_timestamp(std::int64_t unix_ms) {
    using namespace std::chrono;
    const sys_time<milliseconds> t{milliseconds{unix_ms}};
    const auto day = floor<days>(t);
    const year_month_day ymd{day};
    const hh_mm_ss hms{t - day};
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", static_cast<int>(ymd.year()),
                       static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                       hms.hours().count(), hms.minutes().count(), hms.seconds().count(),
                       hms.subseconds().count());
}

}  // namespace

std::optional<level> parse_level(std::string_view text) {
    for (std::size_t i = 0; i < level_names.size(); ++i) {
        if (level_names[i] == text) return static_cast<level>(i);
    }
    return std::nullopt;
}

std::string_view to_string(level lvl) {
    return level_names.at(static_cast<std::size_t>(lvl));
}

std::expected<void, std::string> init(std::string_view level_text) {
    const auto lvl = parse_level(level_text);
    if (!lvl) {
        return std::unexpected(fmt::format(
            "unknown log level \"{}\" (expected trace, debug, info, warn, error or off)",
            level_text));
    }
    init_with_sink(std::make_shared<spdlog::sinks::stderr_sink_mt>(), *lvl);
    return {};
}

void init_with_sink(spdlog::sink_ptr sink, level lvl) {
    current_logger().store(make_logger(std::move(sink)));
    set_level(lvl);
}

void set_level(level lvl) {
    current_level.store(lvl, std::memory_order_relaxed);
}

bool enabled(level lvl) {
    return lvl != level::off && lvl >= current_level.load(std::memory_order_relaxed);
}

std::string format_line(std::int64_t unix_ms, level lvl, std::string_view event,
                        const boost::json::object& fields) {
    boost::json::object line;
    line.reserve(fields.size() + 3);
    line.emplace("ts", format_timestamp(unix_ms));
    line.emplace("level", to_string(lvl));
    line.emplace("event", event);
    for (const auto& field : fields) {
        // emplace keeps the first value of a key, so the three above always win.
        line.emplace(field.key(), field.value());
    }
    return boost::json::serialize(line);
}

void write(level lvl, std::string_view event, const boost::json::object& fields) {
    if (!enabled(lvl)) return;
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now().time_since_epoch());
    const std::string line = format_line(now.count(), lvl, event, fields);
    const auto logger = current_logger().load();
    logger->log(to_spdlog(lvl), spdlog::string_view_t{line.data(), line.size()});
}

}  // namespace tkt::log
