#pragma once
// What a browser's checkout needs to know to pay (GET /api/v1/payments/config, public):
//   {"provider": "sandbox"}                     pay at the built-in sandbox (/sandbox/toss)
//   {"provider": "toss", "clientKey", "widgetUrl"}  load the Toss widget SDK from widgetUrl
//   {"provider": "toss", "clientKey": null}     no widget configured: this server's web UI
//                                               cannot take payments (API clients still can)
// The client key is public by design (it is in every checkout page); the secret key never
// leaves the server.
#include <string>

#include <boost/json/object.hpp>

namespace tkt::http {
class router;
}

namespace tkt::payment {

struct checkout_config {
    bool sandbox = true;
    std::string client_key;  // "" = none
    std::string widget_url;
};

boost::json::object to_json(const checkout_config& c);
void register_checkout_config_route(http::router& routes, checkout_config c);

}  // namespace tkt::payment
