#pragma once
// The web UI (issue 16): the files under web/ embedded into the binary at build time
// (src/app/embed_web.cmake) and served at `/` as the router's fallback for GET, so `make run`
// and any install serve it with no files beside the binary. Paths that are not a file and do
// not look like one get index.html, for the UI's client-side routes; the API's prefixes and the
// operational endpoints never do (they answer 404 problem+json as before).
//
// Every file goes out with a strong ETag (its SHA-256, computed at build time) and
// `Cache-Control: no-cache`: the browser keeps it and asks again with If-None-Match, getting a
// bodiless 304 while it is unchanged. The file names carry no version, so a long max-age would
// serve a stale UI after an upgrade. Sans-io apart from register_web_routes; any thread.
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "http/message.hpp"
#include "http/router.hpp"

namespace tkt::app {

struct web_asset {
    std::string_view path;  // "/index.html", "/js/app.js"
    std::string_view body;
    std::string_view etag;  // quoted, e.g. "\"3f1a…\""
};

// Every file under web/, generated at build time.
std::span<const web_asset> embedded_web_assets();

// The Content-Type for a file name, by its extension (application/octet-stream when unknown).
std::string_view web_content_type(std::string_view path);

// The answer to `GET path` from these files: the file, index.html for a client-side route, or
// 404 problem+json for the API's prefixes and for a missing file. `if_none_match` is the
// request's If-None-Match header ("" when absent).
http::response web_response(std::span<const web_asset> assets, std::string_view path,
                            std::string_view if_none_match);

// The same, reading the asked file (and index.html) from the folder `root` on each call, with
// an ETag from its content: `server.web_dir`, for working on the UI without rebuilding. A path
// with a ".." segment is never read.
http::response web_response_from_dir(const std::filesystem::path& root, std::string_view path,
                                     std::string_view if_none_match);

// Makes the UI the router's fallback for GET: the embedded files, or those under `web_dir`
// when it is not empty.
void register_web_routes(http::router& routes, std::string web_dir);

}  // namespace tkt::app
