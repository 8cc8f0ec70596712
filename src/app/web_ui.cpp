#include "app/web_ui.hpp"

#include <algorithm>
#include <array>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "common/encoding.hpp"
#include "common/problem.hpp"

namespace tkt::app {
namespace {

// Paths the UI must never answer for: a typo in an API call stays a JSON 404.
bool reserved(std::string_view path) {
    constexpr std::array<std::string_view, 2> prefixes{"/api", "/sandbox"};
    for (auto prefix : prefixes) {
        if (path.starts_with(prefix) &&
            (path.size() == prefix.size() || path[prefix.size()] == '/'))
            return true;
    }
    return path == "/healthz" || path == "/readyz" || path == "/metrics";
}

// "/events/7" is a client-side route; "/js/missing.js" is a missing file.
bool looks_like_file(std::string_view path) {
    auto last = path.substr(path.rfind('/') + 1);
    return last.find('.') != std::string_view::npos;
}

const web_asset* find(std::span<const web_asset> assets, std::string_view path) {
    auto it = std::find_if(assets.begin(), assets.end(),
                           [&](const web_asset& a) { return a.path == path; });
    return it == assets.end() ? nullptr : &*it;
}

// If-None-Match may list several tags, or be "*".
bool etag_matches(std::string_view if_none_match, std::string_view etag) {
    if (if_none_match.empty()) return false;
    if (if_none_match == "*") return true;
    std::size_t pos = 0;
    while (pos < if_none_match.size()) {
        auto comma = if_none_match.find(',', pos);
        if (comma == std::string_view::npos) comma = if_none_match.size();
        auto tag = if_none_match.substr(pos, comma - pos);
        while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
        while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
        if (tag.starts_with("W/")) tag.remove_prefix(2);
        if (tag == etag) return true;
        pos = comma + 1;
    }
    return false;
}

http::response file_response(const web_asset& asset, std::string_view if_none_match) {
    http::response res;
    res.with_header("ETag", std::string(asset.etag));
    res.with_header("Cache-Control", "no-cache");
    res.with_header("X-Content-Type-Options", "nosniff");
    if (etag_matches(if_none_match, asset.etag)) {
        res.status = 304;
        res.content_type.clear();
        return res;
    }
    res.content_type = std::string(web_content_type(asset.path));
    res.body = std::string(asset.body);
    return res;
}

}  // namespace

std::string_view web_content_type(std::string_view path) {
    constexpr std::array<std::pair<std::string_view, std::string_view>, 10> types{{
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".webmanifest", "application/manifest+json"},
        {".txt", "text/plain; charset=utf-8"},
    }};
    for (auto [extension, type] : types) {
        if (path.ends_with(extension)) return type;
    }
    return "application/octet-stream";
}

http::response web_response(std::span<const web_asset> assets, std::string_view path,
                            std::string_view if_none_match) {
    if (reserved(path)) {
        return http::problem_response(make_problem(problem_code::not_found, "no such resource"));
    }
    if (path == "/") path = "/index.html";
    if (const web_asset* asset = find(assets, path)) return file_response(*asset, if_none_match);
    const web_asset* index = find(assets, "/index.html");
    if (looks_like_file(path) || index == nullptr) {
        return http::problem_response(make_problem(problem_code::not_found, "no such file"));
    }
    return file_response(*index, if_none_match);
}

namespace {

struct disk_file {
    std::string path;
    std::string body;
    std::string etag;
};

std::optional<disk_file> read_web_file(const std::filesystem::path& root, std::string_view path) {
    if (path.find("..") != std::string_view::npos || path.find('\\') != std::string_view::npos)
        return std::nullopt;
    const auto file = root / std::filesystem::path(path.substr(1));
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) return std::nullopt;
    std::ifstream in(file, std::ios::binary);
    if (!in) return std::nullopt;
    disk_file f{std::string(path), std::string(std::istreambuf_iterator<char>(in), {}), ""};
    // Built in place: g++ 12 at -O3 warns falsely (-Wrestrict) on "\"" + std::string.
    f.etag = sha256_hex(f.body);
    f.etag.resize(32);
    f.etag.insert(f.etag.begin(), '"');
    f.etag.push_back('"');
    return f;
}

}  // namespace

http::response web_response_from_dir(const std::filesystem::path& root, std::string_view path,
                                     std::string_view if_none_match) {
    std::vector<disk_file> files;
    const std::string_view asked = path == "/" ? std::string_view("/index.html") : path;
    if (!asked.ends_with('/')) {
        if (auto f = read_web_file(root, asked)) files.push_back(std::move(*f));
    }
    if (asked != "/index.html") {
        if (auto f = read_web_file(root, "/index.html")) files.push_back(std::move(*f));
    }
    std::vector<web_asset> assets;
    for (const auto& f : files) assets.push_back({f.path, f.body, f.etag});
    return web_response(assets, path, if_none_match);
}

void register_web_routes(http::router& routes, std::string web_dir) {
    if (web_dir.empty()) {
        routes.set_fallback([](http::request& req) -> boost::asio::awaitable<http::response> {
            co_return web_response(embedded_web_assets(), req.path, req.header("If-None-Match"));
        });
        return;
    }
    routes.set_fallback([root = std::filesystem::path(std::move(web_dir))](
                            http::request& req) -> boost::asio::awaitable<http::response> {
        co_return web_response_from_dir(root, req.path, req.header("If-None-Match"));
    });
}

}  // namespace tkt::app
