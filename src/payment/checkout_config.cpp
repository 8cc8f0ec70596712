#include "payment/checkout_config.hpp"

#include <memory>
#include <utility>

#include <boost/asio/awaitable.hpp>

#include "http/router.hpp"

namespace tkt::payment {

boost::json::object to_json(const checkout_config& c) {
    if (c.sandbox) return {{"provider", "sandbox"}};
    boost::json::object out{{"provider", "toss"}};
    if (c.client_key.empty()) {
        out["clientKey"] = nullptr;
    } else {
        out["clientKey"] = c.client_key;
        out["widgetUrl"] = c.widget_url;
    }
    return out;
}

void register_checkout_config_route(http::router& routes, checkout_config c) {
    auto answer = std::make_shared<const http::response>(
        http::json_response(200, boost::json::value(to_json(c))));
    routes.add(
        http::verb::get, "/api/v1/payments/config",
        [answer](http::request&) -> boost::asio::awaitable<http::response> { co_return *answer; });
}

}  // namespace tkt::payment
