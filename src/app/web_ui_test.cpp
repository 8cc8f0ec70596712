#include "app/web_ui.hpp"

#include <array>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace tkt::app {
namespace {

constexpr std::array<web_asset, 3> assets{{
    {"/index.html", "<!doctype html><title>Ticketon</title>", "\"aaaa\""},
    {"/js/app.js", "export const x = 1;", "\"bbbb\""},
    {"/css/app.css", "body{}", "\"cccc\""},
}};

std::string header(const http::response& res, std::string_view name) {
    for (const auto& [k, v] : res.headers) {
        if (k == name) return v;
    }
    return "";
}

TEST(web_ui, root_is_index_html_with_validators) {
    auto res = web_response(assets, "/", "");
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.content_type, "text/html; charset=utf-8");
    EXPECT_EQ(res.body, "<!doctype html><title>Ticketon</title>");
    EXPECT_EQ(header(res, "ETag"), "\"aaaa\"");
    EXPECT_EQ(header(res, "Cache-Control"), "no-cache");
}

TEST(web_ui, files_get_their_content_type) {
    EXPECT_EQ(web_response(assets, "/js/app.js", "").content_type,
              "text/javascript; charset=utf-8");
    EXPECT_EQ(web_response(assets, "/css/app.css", "").content_type, "text/css; charset=utf-8");
    EXPECT_EQ(web_content_type("/img/logo.svg"), "image/svg+xml");
    EXPECT_EQ(web_content_type("/favicon.ico"), "image/x-icon");
    EXPECT_EQ(web_content_type("/data.bin"), "application/octet-stream");
}

TEST(web_ui, matching_if_none_match_is_304_without_body) {
    auto res = web_response(assets, "/js/app.js", "\"bbbb\"");
    EXPECT_EQ(res.status, 304);
    EXPECT_TRUE(res.body.empty());
    EXPECT_EQ(header(res, "ETag"), "\"bbbb\"");
    EXPECT_EQ(web_response(assets, "/js/app.js", "\"zzzz\", W/\"bbbb\"").status, 304);
    EXPECT_EQ(web_response(assets, "/js/app.js", "*").status, 304);
    EXPECT_EQ(web_response(assets, "/js/app.js", "\"zzzz\"").status, 200);
}

TEST(web_ui, client_side_routes_get_index_html) {
    for (std::string_view path : {"/events/7", "/orders", "/events/7/queue", "/apis"}) {
        auto res = web_response(assets, path, "");
        EXPECT_EQ(res.status, 200) << path;
        EXPECT_EQ(res.body, assets[0].body) << path;
    }
}

TEST(web_ui, never_shadows_the_api_or_operations) {
    for (std::string_view path : {"/api", "/api/v1/nope", "/api/v1/events/7/x", "/sandbox",
                                  "/sandbox/toss/nope", "/healthz", "/readyz", "/metrics"}) {
        auto res = web_response(assets, path, "");
        EXPECT_EQ(res.status, 404) << path;
        EXPECT_EQ(res.content_type, "application/problem+json") << path;
    }
}

TEST(web_ui, a_missing_file_is_404_not_index_html) {
    auto res = web_response(assets, "/js/missing.js", "");
    EXPECT_EQ(res.status, 404);
    EXPECT_EQ(res.content_type, "application/problem+json");
}

TEST(web_ui, the_embedded_ui_has_its_entry_points) {
    auto embedded = embedded_web_assets();
    auto index = web_response(embedded, "/", "");
    EXPECT_EQ(index.status, 200);
    EXPECT_NE(index.body.find("<html"), std::string::npos);
    EXPECT_EQ(web_response(embedded, "/js/app.js", "").status, 200);
}

class web_dir_test : public ::testing::Test {
protected:
    void SetUp() override {
        root_ =
            std::filesystem::temp_directory_path() /
            ("ticketon-web-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
             "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::create_directories(root_ / "js");
        write("index.html", "<html>dev</html>");
        write("js/app.js", "export {};");
        write("../secret.txt", "not to be served");
    }
    void TearDown() override {
        std::filesystem::remove_all(root_);
        std::filesystem::remove(root_.parent_path() / "secret.txt");
    }
    void write(const std::string& name, const std::string& text) {
        std::ofstream(root_ / name, std::ios::binary) << text;
    }
    std::filesystem::path root_;
};

TEST_F(web_dir_test, serves_the_folder_as_it_is_now) {
    auto res = web_response_from_dir(root_, "/js/app.js", "");
    EXPECT_EQ(res.status, 200);
    EXPECT_EQ(res.body, "export {};");
    EXPECT_EQ(res.content_type, "text/javascript; charset=utf-8");
    const auto etag = header(res, "ETag");
    EXPECT_EQ(web_response_from_dir(root_, "/js/app.js", etag).status, 304);
    write("js/app.js", "export const changed = 1;");
    auto changed = web_response_from_dir(root_, "/js/app.js", etag);
    EXPECT_EQ(changed.status, 200);
    EXPECT_EQ(changed.body, "export const changed = 1;");
    EXPECT_NE(header(changed, "ETag"), etag);
}

TEST_F(web_dir_test, routes_get_index_html_and_nothing_leaves_the_folder) {
    EXPECT_EQ(web_response_from_dir(root_, "/", "").body, "<html>dev</html>");
    EXPECT_EQ(web_response_from_dir(root_, "/events/7", "").body, "<html>dev</html>");
    EXPECT_EQ(web_response_from_dir(root_, "/js", "").body, "<html>dev</html>");
    EXPECT_EQ(web_response_from_dir(root_, "/../secret.txt", "").status, 404);
    EXPECT_EQ(web_response_from_dir(root_, "/js/../../secret.txt", "").status, 404);
    EXPECT_EQ(web_response_from_dir(root_, "/api/v1/x", "").status, 404);
}

}  // namespace
}  // namespace tkt::app
