#include "booking/tickets_handlers.hpp"

#include <map>

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "booking/tickets_test_support.hpp"
#include "http/testing/fake_headers.hpp"

namespace tkt::booking {
namespace {

using http::testing::header_of;
using http::testing::headers_map;
using http::testing::lookup_header;

class TicketsHandlers : public testing::tickets_fixture {
protected:
    void SetUp() override {
        tickets_fixture::SetUp();
        if (HasFatalFailure()) return;
        register_ticket_routes(router_, *tickets_, *auth_);
        manager_ = add_user(auth::role::manager);
        owner_ = add_user(auth::role::user);
        stranger_ = add_user(auth::role::user);
        event_ = add_event(manager_.user_id);
    }

    http::response call(http::verb method, std::string path, std::string token,
                        std::string body = {}) {
        http::request req;
        req.method = method;
        req.path = std::move(path);
        req.body = std::move(body);
        headers_map headers;
        if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
        req.bind_headers(&headers, lookup_header);
        auto m = router_.match(method, req.path);
        EXPECT_EQ(m.outcome, http::match_result::kind::found) << req.path;
        if (m.outcome != http::match_result::kind::found) return {};
        req.params = m.params;
        return await(m.matched->fn(req));
    }

    http::response checkin(const auth::principal& who, const std::string& code) {
        const boost::json::object body{{"code", code}};
        return call(http::verb::post, "/api/v1/checkin", token_for(who),
                    boost::json::serialize(body));
    }

    static boost::json::object json(const http::response& r) {
        return boost::json::parse(r.body).as_object();
    }

    http::router router_;
    auth::principal manager_, owner_, stranger_;
    std::int64_t event_ = 0;
};

TEST_F(TicketsHandlers, ListAnswersTheCallersTicketsInCamelCase) {
    const auto t = add_ticket(owner_.user_id, event_, "A-1-1");
    add_ticket(stranger_.user_id, event_, "A-1-2");
    const auto r = call(http::verb::get, "/api/v1/tickets", token_for(owner_));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(header_of(r, "Cache-Control"), "private, no-store");
    const auto items = json(r).at("items").as_array();
    ASSERT_EQ(items.size(), 1U);
    const auto& item = items[0].as_object();
    EXPECT_EQ(item.at("id").as_string(), t.id);
    EXPECT_EQ(item.at("orderId").as_string(), t.order_id);
    EXPECT_EQ(item.at("eventId").as_int64(), event_);
    EXPECT_EQ(item.at("seat").as_string(), "A-1-1");
    EXPECT_TRUE(item.at("zone").is_null());
    EXPECT_EQ(item.at("grade").as_string(), "VIP");
    EXPECT_EQ(item.at("price").as_int64(), 50000);
    EXPECT_EQ(item.at("status").as_string(), "VALID");
    EXPECT_TRUE(item.at("usedAt").is_null());
    EXPECT_EQ(item.at("createdAt").as_string(), t.created_at);
    EXPECT_EQ(item.at("code").as_string(), t.code);
}

TEST_F(TicketsHandlers, OneTicketIsForItsOwnerAndAnyoneElseGets404) {
    const auto t = add_ticket(owner_.user_id, event_, "A-1-3");
    const auto mine = call(http::verb::get, "/api/v1/tickets/" + t.id, token_for(owner_));
    ASSERT_EQ(mine.status, 200) << mine.body;
    EXPECT_EQ(json(mine).at("code").as_string(), t.code);

    const auto theirs = call(http::verb::get, "/api/v1/tickets/" + t.id, token_for(stranger_));
    EXPECT_EQ(theirs.status, 404);
    EXPECT_EQ(json(theirs).at("code").as_string(), "NOT_FOUND");
    const auto qr =
        call(http::verb::get, "/api/v1/tickets/" + t.id + "/qr.svg", token_for(stranger_));
    EXPECT_EQ(qr.status, 404);
    EXPECT_EQ(call(http::verb::get, "/api/v1/tickets", {}).status, 401);
}

TEST_F(TicketsHandlers, QrSvgIsAnSvgImage) {
    const auto t = add_ticket(owner_.user_id, event_, "A-1-4");
    const auto r = call(http::verb::get, "/api/v1/tickets/" + t.id + "/qr.svg", token_for(owner_));
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.content_type, "image/svg+xml");
    EXPECT_TRUE(r.body.starts_with("<svg"));
    EXPECT_EQ(header_of(r, "Cache-Control"), "private, no-store");
}

TEST_F(TicketsHandlers, CheckinAdmitsOnceThenAnswersAlreadyUsedWithTheFirstTime) {
    const auto t = add_ticket(owner_.user_id, event_, "A-1-5");
    const auto first = checkin(manager_, t.code);
    ASSERT_EQ(first.status, 200) << first.body;
    const auto o = json(first);
    EXPECT_EQ(o.at("admitted").as_bool(), true);
    EXPECT_EQ(o.at("ticket").at("id").as_string(), t.id);
    EXPECT_EQ(o.at("ticket").at("status").as_string(), "USED");
    const auto used_at = o.at("usedAt").as_string();
    EXPECT_EQ(used_at, auth::format_rfc3339(clock_.now()));

    clock_.advance(std::chrono::seconds(90));
    const auto second = checkin(manager_, t.code);
    ASSERT_EQ(second.status, 409) << second.body;
    EXPECT_EQ(second.content_type, "application/problem+json");
    const auto p = json(second);
    EXPECT_EQ(p.at("code").as_string(), "ALREADY_USED");
    EXPECT_EQ(p.at("usedAt").as_string(), used_at);
}

TEST_F(TicketsHandlers, CheckinRefusesUsersBadCodesAndCancelledTickets) {
    const auto t = add_ticket(owner_.user_id, event_, "A-1-6");
    const auto by_user = checkin(owner_, t.code);
    EXPECT_EQ(by_user.status, 403) << by_user.body;
    EXPECT_EQ(json(by_user).at("code").as_string(), "FORBIDDEN");

    const auto bad = checkin(manager_, "TKT1.nope.1.AAAA");
    ASSERT_EQ(bad.status, 400) << bad.body;
    EXPECT_EQ(json(bad).at("code").as_string(), "VALIDATION_FAILED");
    EXPECT_EQ(json(bad).at("field").as_string(), "code");

    const auto missing = call(http::verb::post, "/api/v1/checkin", token_for(manager_), "{}");
    EXPECT_EQ(missing.status, 400);
    EXPECT_EQ(json(missing).at("field").as_string(), "code");

    const auto gone = checkin(manager_, tickets_->signer().sign("gone", event_));
    EXPECT_EQ(gone.status, 404) << gone.body;

    const auto cancelled =
        add_ticket(owner_.user_id, event_, "A-1-7", "2027-05-01T10:05:00Z", "VOID");
    const auto void_scan = checkin(manager_, cancelled.code);
    ASSERT_EQ(void_scan.status, 409) << void_scan.body;
    EXPECT_EQ(json(void_scan).at("code").as_string(), "CONFLICT");
    EXPECT_EQ(json(void_scan).at("detail").as_string(), "ticket was cancelled");
}

}  // namespace
}  // namespace tkt::booking
