#include "http/metrics.hpp"

#include <gtest/gtest.h>

#include "http/router.hpp"

namespace tkt::http {
namespace {

TEST(metrics, renders_requests_by_route_and_status_with_histogram) {
    router r;
    r.add(verb::get, "/api/v1/me",
          [](request&) -> boost::asio::awaitable<response> { co_return no_content(); });
    metrics m;
    m.bind_routes(r);
    m.observe(0, 200, 0.002);
    m.observe(0, 200, 0.004);
    m.observe(0, 401, 0.0001);
    m.observe(SIZE_MAX, 404, 0.0001);
    m.connection_opened();
    auto text = m.render();
    EXPECT_NE(
        text.find(
            "ticketon_http_requests_total{method=\"GET\",route=\"/api/v1/me\",status=\"200\"} 2"),
        std::string::npos)
        << text;
    EXPECT_NE(text.find("route=\"/api/v1/me\",status=\"401\"} 1"), std::string::npos);
    EXPECT_NE(text.find("route=\"unmatched\",status=\"404\"} 1"), std::string::npos);
    EXPECT_NE(text.find("ticketon_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/"
                        "v1/me\",le=\"0.0025\"} 2"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("le=\"+Inf\"} 3"), std::string::npos);
    EXPECT_NE(text.find("ticketon_http_connections_open 1"), std::string::npos);
}

TEST(metrics, unusual_statuses_fall_into_their_class_and_collectors_add_lines) {
    router r;
    metrics m;
    m.bind_routes(r);
    m.observe(SIZE_MAX, 418, 0.1);
    m.add_collector([](std::string& out) { out += "ticketon_custom 5\n"; });
    auto text = m.render();
    EXPECT_NE(text.find("status=\"4xx\"} 1"), std::string::npos) << text;
    EXPECT_NE(text.find("ticketon_custom 5\n"), std::string::npos);
}

}  // namespace
}  // namespace tkt::http
