#include "payment/sandbox_widget.hpp"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>

#include "http/message.hpp"

namespace tkt::payment {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

window_fields fields(std::string choice = "") {
    return window_fields{.client_key = "test_gck_docs_1234",
                         .order_id = "order-widget-1",
                         .order_name = "Concert <Night> & Day",
                         .amount = "154000",
                         .success_url = "https://shop.example/checkout/order-widget-1/success?x=1",
                         .fail_url = "https://shop.example/checkout/order-widget-1/fail",
                         .choice = std::move(choice)};
}

// The query of a URL the browser is sent to, decoded.
std::string param(const std::string& location, std::string_view name) {
    const auto url = boost::urls::parse_absolute_uri(location);
    EXPECT_TRUE(url) << location;
    if (!url) return "<no url>";
    const auto query = url->encoded_query();
    return http::form_field(std::string_view(query.data(), query.size()), name)
        .value_or("<absent>");
}

std::string confirm_body(const std::string& key, std::string_view order, std::int64_t amount) {
    return boost::json::serialize(
        boost::json::object{{"paymentKey", key}, {"orderId", order}, {"amount", amount}});
}

const auto now = std::chrono::system_clock::now();

TEST(sandbox_widget, the_script_defines_the_sdk_entry_point) {
    EXPECT_THAT(std::string(widget_script()), HasSubstr("window.TossPayments = TossPayments"));
    EXPECT_THAT(std::string(widget_script()), HasSubstr("requestPayment"));
}

TEST(sandbox_widget, the_window_shows_the_order_escaped_and_posts_every_field_back) {
    const auto page = open_window(fields());
    EXPECT_EQ(page.status, 200);
    EXPECT_THAT(page.html, HasSubstr("Concert &lt;Night&gt; &amp; Day"));
    EXPECT_THAT(page.html, Not(HasSubstr("<Night>")));
    EXPECT_THAT(page.html, HasSubstr("154,000원"));
    EXPECT_THAT(page.html, HasSubstr(R"(name="successUrl" value=")"
                                     "https://shop.example/checkout/order-widget-1/success?x=1"));
    for (const char* choice : {"approve", "decline", "cancel"}) {
        EXPECT_THAT(page.html, HasSubstr(fmt::format(R"(value="{}")", choice)));
    }
}

TEST(sandbox_widget, a_window_with_bad_fields_is_refused_with_a_page_saying_why) {
    auto secret = fields("approve");
    secret.client_key = "test_sk_secret";
    auto amount = fields("approve");
    amount.amount = "12.5";
    auto script_url = fields("approve");
    script_url.success_url = "javascript:alert(1)";
    auto relative = fields("approve");
    relative.fail_url = "/fail";
    auto fragment = fields("approve");
    fragment.success_url = "https://shop.example/ok#x";
    for (const auto& bad : {secret, amount, script_url, relative, fragment}) {
        const auto page = open_window(bad);
        EXPECT_EQ(page.status, 400);
        EXPECT_THAT(page.html, HasSubstr("sandbox-refusal"));
        // Posted with a valid choice, it is refused too, and no payment is made.
        sandbox box;
        EXPECT_EQ(submit_window(box, bad, now).status, 400);
        EXPECT_EQ(box.find_by_order("order-widget-1").status, 404);
    }
}

TEST(sandbox_widget, approve_makes_a_payment_and_sends_the_browser_to_the_success_url) {
    sandbox box;
    const auto a = submit_window(box, fields("approve"), now);
    ASSERT_EQ(a.status, 303);
    EXPECT_THAT(a.location,
                StartsWith("https://shop.example/checkout/order-widget-1/success?x=1&"));
    EXPECT_EQ(param(a.location, "paymentType"), "NORMAL");
    EXPECT_EQ(param(a.location, "orderId"), "order-widget-1");
    EXPECT_EQ(param(a.location, "amount"), "154000");
    const auto key = param(a.location, "paymentKey");
    EXPECT_EQ(box.get(key).body.at("status").as_string(), "READY");
    // The shop's confirm with what came back settles it.
    const auto done = box.confirm(confirm_body(key, "order-widget-1", 154'000), "", "", now);
    EXPECT_EQ(done.status, 200);
    EXPECT_EQ(done.body.at("status").as_string(), "DONE");
    // The same order cannot be paid a second time.
    const auto again = submit_window(box, fields("approve"), now);
    ASSERT_EQ(again.status, 303);
    EXPECT_THAT(again.location, StartsWith("https://shop.example/checkout/order-widget-1/fail?"));
    EXPECT_EQ(param(again.location, "code"), "DUPLICATED_ORDER_ID");
}

TEST(sandbox_widget, decline_makes_a_payment_the_card_company_refuses_at_confirm) {
    sandbox box;
    const auto a = submit_window(box, fields("decline"), now);
    ASSERT_EQ(a.status, 303);
    const auto key = param(a.location, "paymentKey");
    const auto refused = box.confirm(confirm_body(key, "order-widget-1", 154'000), "", "", now);
    EXPECT_EQ(refused.status, 403);
    EXPECT_EQ(refused.body.at("code").as_string(), "REJECT_CARD_COMPANY");
}

TEST(sandbox_widget, cancel_makes_no_payment_and_sends_the_browser_to_the_fail_url) {
    sandbox box;
    const auto a = submit_window(box, fields("cancel"), now);
    ASSERT_EQ(a.status, 303);
    EXPECT_THAT(a.location, StartsWith("https://shop.example/checkout/order-widget-1/fail?"));
    EXPECT_EQ(param(a.location, "code"), "PAY_PROCESS_CANCELED");
    EXPECT_EQ(param(a.location, "orderId"), "order-widget-1");
    EXPECT_NE(param(a.location, "message"), "<absent>");
    EXPECT_EQ(box.find_by_order("order-widget-1").status, 404);
    EXPECT_EQ(submit_window(box, fields("steal"), now).status, 400);
}

}  // namespace
}  // namespace tkt::payment
