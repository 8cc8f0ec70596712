#pragma once
// The Toss sandbox's stand-in for the browser side of Toss Payments: the payment widget SDK
// (js.tosspayments.com/v2/standard) and the payment window it opens. With them a shop page that
// uses the real widget's calls runs unchanged against the sandbox, in a browser, over real HTTP.
//
// Routes, under the sandbox's prefix (register_sandbox_routes adds them):
//   GET  /v2/standard  the SDK, a classic script defining window.TossPayments: TossPayments(
//        clientKey).widgets({customerKey}) with setAmount({currency: "KRW", value}),
//        renderPaymentMethods({selector}), renderAgreement({selector}) and requestPayment({
//        orderId, orderName, successUrl, failUrl}), which sends the browser to the window.
//        TossPayments.ANONYMOUS is the customer key of a guest.
//   GET  /v2/window?clientKey&orderId&orderName&amount&successUrl&failUrl  the payment window: a
//        page with the order and three buttons — approve, declined by the card company (the
//        payment is made, the shop's confirm is refused 403 REJECT_CARD_COMPANY), cancel.
//   POST /v2/window    (the window's form) makes the payment as POST /payments does and answers
//        303 to successUrl?paymentType=NORMAL&orderId&paymentKey&amount, or to
//        failUrl?code&message&orderId when the buyer cancels (PAY_PROCESS_CANCELED) or the
//        payment cannot be made (the sandbox's error code).
// A window asked with a client key that is not a Toss client key (`test_`/`live_` then `ck_` or
// `gck_`), an amount that is not a positive integer, or a success or fail URL that is not an
// absolute http(s) URL without a fragment is answered 400 with a page saying which. The
// sandbox does not pair client keys with secret keys.
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "payment/sandbox.hpp"

namespace tkt::payment {

// The window's fields, as the SDK puts them in the query and the window's form posts them.
struct window_fields {
    std::string client_key;
    std::string order_id;
    std::string order_name;
    std::string amount;
    std::string success_url;
    std::string fail_url;
    std::string choice;  // approve, decline or cancel (POST only)
};

// Reads the fields through `field` (a query's or a form body's lookup); absent ones are "".
window_fields read_window_fields(
    const std::function<std::optional<std::string>(std::string_view)>& field);

// A page to show, or where to send the browser.
struct window_answer {
    int status = 200;      // 200 or 400: `html`; 303: `location`
    std::string html;      // text/html
    std::string location;  // for 303
};

// GET /v2/standard
std::string_view widget_script();
// GET /v2/window
window_answer open_window(const window_fields& fields);
// POST /v2/window: the payment is made in `box` (as POST /payments) unless the buyer cancels.
window_answer submit_window(sandbox& box, const window_fields& fields, sandbox::time_point now);

}  // namespace tkt::payment
