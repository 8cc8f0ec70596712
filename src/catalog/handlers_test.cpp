#include "catalog/handlers.hpp"

#include <chrono>
#include <map>

#include <fmt/core.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "catalog/test_support.hpp"
#include "http/testing/fake_headers.hpp"

namespace tkt::catalog {
namespace {

using namespace std::chrono_literals;
using http::testing::header_of;
using http::testing::headers_map;
using http::testing::lookup_header;
using testing::general_body;
using testing::reserved_body;

class CatalogHandlers : public testing::db_fixture {
protected:
    void SetUp() override {
        db_fixture::SetUp();
        auth_ = std::make_unique<auth::service>(
            *db_, clock_, auth::make_keyring(auth::jwt_key{"test", std::string(32, 'k')}),
            auth::service_options{.issuer = "ticketon-test",
                                  .access_ttl_seconds = 900,
                                  .refresh_ttl_seconds = 3600,
                                  .lockout_threshold = 5,
                                  .lockout_seconds = 300,
                                  .cost = auth::password_cost::min});
        svc_ = std::make_unique<service>(*db_, inventory_, clock_);
        register_routes(router_, *svc_, seats_, *auth_);
        manager_ = token_for("m@example.com", auth::role::manager);
        other_ = token_for("m2@example.com", auth::role::manager);
        user_ = token_for("u@example.com", auth::role::user);
    }

    std::string token_for(std::string email, auth::role r) {
        make_user(email, r);
        auto s = testing::run(io_, auth_->login(email, "password123"));
        EXPECT_TRUE(s);
        return s ? s->access_token : std::string{};
    }

    http::response call(http::verb method, std::string target, std::string body = {},
                        std::string token = {}, headers_map headers = {}) {
        const auto q = target.find('?');
        http::request req;
        req.method = method;
        req.path = target.substr(0, q);
        req.query = q == std::string::npos ? std::string{} : target.substr(q + 1);
        req.body = std::move(body);
        if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
        req.bind_headers(&headers, lookup_header);
        auto m = router_.match(method, req.path);
        EXPECT_EQ(m.outcome, http::match_result::kind::found) << target;
        if (m.outcome != http::match_result::kind::found) return {};
        req.params = m.params;
        return testing::run(io_, m.matched->fn(req));
    }

    static boost::json::object json(const http::response& r) {
        return boost::json::parse(r.payload()).as_object();
    }
    static std::string problem_field(const http::response& r) {
        EXPECT_EQ(r.status, 400) << r.body;
        const auto o = json(r);
        EXPECT_EQ(o.at("code").as_string(), "VALIDATION_FAILED");
        return o.contains("field") ? std::string{o.at("field").as_string()} : std::string{};
    }

    // Creates an event as the manager and returns its id.
    std::int64_t create(const boost::json::object& body) {
        const auto r =
            call(http::verb::post, "/api/v1/events", boost::json::serialize(body), manager_);
        EXPECT_EQ(r.status, 201) << r.body;
        return json(r).at("id").as_int64();
    }
    std::string path(std::int64_t id, std::string_view tail = {}) {
        return fmt::format("/api/v1/events/{}{}", id, tail);
    }

    std::unique_ptr<auth::service> auth_;
    std::unique_ptr<service> svc_;
    seat_map seats_{inventory_};
    http::router router_;
    std::string manager_, other_, user_;
};

INSTANTIATE_TEST_SUITE_P(on, CatalogHandlers, tkt::testing::all_db_engines(),
                         tkt::testing::db_engine_name);

TEST_P(CatalogHandlers, CreateNeedsAManagerAndAValidBody) {
    const auto body = boost::json::serialize(reserved_body());
    EXPECT_EQ(call(http::verb::post, "/api/v1/events", body).status, 401);
    EXPECT_EQ(call(http::verb::post, "/api/v1/events", body, user_).status, 403);
    const auto r = call(http::verb::post, "/api/v1/events", body, manager_);
    ASSERT_EQ(r.status, 201) << r.body;
    const auto o = json(r);
    EXPECT_EQ(o.at("status").as_string(), "DRAFT");
    EXPECT_EQ(o.at("title").as_string(), "Spring Concert");
    EXPECT_EQ(o.at("sections").as_array().size(), 2u);
    EXPECT_EQ(header_of(r, "Location"), path(o.at("id").as_int64()));

    auto bad = reserved_body();
    bad["grades"].as_array()[1].as_object()["price"] = -5;
    EXPECT_EQ(problem_field(
                  call(http::verb::post, "/api/v1/events", boost::json::serialize(bad), manager_)),
              "grades[1].price");
    EXPECT_EQ(problem_field(call(http::verb::post, "/api/v1/events", "{nope", manager_)), "body");
}

TEST_P(CatalogHandlers, DraftsAreHiddenFromThePublic) {
    const auto id = create(reserved_body());
    EXPECT_EQ(call(http::verb::get, path(id)).status, 404);
    EXPECT_EQ(call(http::verb::get, path(id), {}, user_).status, 404);
    EXPECT_EQ(call(http::verb::get, path(id), {}, other_).status, 404);
    EXPECT_EQ(call(http::verb::get, path(id), {}, "garbage").status, 404);
    EXPECT_EQ(call(http::verb::get, path(id), {}, manager_).status, 200);
    EXPECT_EQ(call(http::verb::get, path(id, "/seats")).status, 404);
    EXPECT_EQ(json(call(http::verb::get, "/api/v1/events")).at("total").as_int64(), 0);
    EXPECT_EQ(json(call(http::verb::get, "/api/v1/events", {}, manager_)).at("total").as_int64(),
              1);

    const auto published = call(http::verb::patch, path(id), R"({"status":"SCHEDULED"})", manager_);
    ASSERT_EQ(published.status, 200) << published.body;
    EXPECT_EQ(json(published).at("status").as_string(), "SCHEDULED");
    EXPECT_EQ(call(http::verb::get, path(id)).status, 200);
    const auto list = json(call(http::verb::get, "/api/v1/events"));
    EXPECT_EQ(list.at("total").as_int64(), 1);
    EXPECT_EQ(list.at("page").as_int64(), 0);
    EXPECT_EQ(list.at("size").as_int64(), 20);
    EXPECT_FALSE(list.at("items").as_array()[0].as_object().contains("sections"));
}

TEST_P(CatalogHandlers, ATokenInTheUrlIsRefusedEvenWhereNoneIsNeeded) {
    const auto draft = create(reserved_body());
    const auto open = create(general_body());
    ASSERT_EQ(call(http::verb::patch, path(open), R"({"status":"SCHEDULED"})", manager_).status,
              200);
    const auto in_url = "access_token=" + manager_;
    for (const auto& target :
         {"/api/v1/events?" + in_url, path(draft, "?" + in_url), path(open, "?" + in_url),
          path(draft, "/seats?" + in_url), path(open, "/seats?" + in_url),
          "/api/v1/manager/events?" + in_url}) {
        const auto r = call(http::verb::get, target);
        EXPECT_EQ(r.status, 401) << target << r.body;
        EXPECT_EQ(json(r).at("code").as_string(), "UNAUTHORIZED") << target;
    }
    EXPECT_EQ(call(http::verb::patch, path(draft, "?" + in_url), R"({"title":"T"})").status, 401);
    // The same token in the header shows the manager their draft.
    EXPECT_EQ(call(http::verb::get, path(draft), {}, manager_).status, 200);
    EXPECT_EQ(json(call(http::verb::get, "/api/v1/events", {}, manager_)).at("total").as_int64(),
              2);
    // Anonymous callers and a bad header token are still served what the public sees.
    EXPECT_EQ(json(call(http::verb::get, "/api/v1/events")).at("total").as_int64(), 1);
    EXPECT_EQ(call(http::verb::get, path(open), {}, "a.b.c").status, 200);
}

TEST_P(CatalogHandlers, UnknownAndNonNumericIdsAreNotFound) {
    EXPECT_EQ(call(http::verb::get, "/api/v1/events/abc").status, 404);
    EXPECT_EQ(call(http::verb::get, "/api/v1/events/12345").status, 404);
    EXPECT_EQ(call(http::verb::get, "/api/v1/events/1x/seats").status, 404);
    EXPECT_EQ(
        call(http::verb::patch, "/api/v1/events/abc", R"({"status":"ON_SALE"})", manager_).status,
        404);
}

TEST_P(CatalogHandlers, PatchRulesAndOwnership) {
    const auto id = create(reserved_body());
    EXPECT_EQ(call(http::verb::patch, path(id), R"({"status":"ON_SALE"})", other_).status, 404);
    EXPECT_EQ(call(http::verb::patch, path(id), R"({"status":"ON_SALE"})", user_).status, 403);
    EXPECT_EQ(problem_field(call(http::verb::patch, path(id), R"({"maxPerUser":11})", manager_)),
              "maxPerUser");
    const auto opened = call(http::verb::patch, path(id), R"({"status":"ON_SALE"})", manager_);
    ASSERT_EQ(opened.status, 200) << opened.body;
    const auto edit = call(http::verb::patch, path(id), R"({"title":"x"})", manager_);
    EXPECT_EQ(edit.status, 409);
    EXPECT_EQ(json(edit).at("code").as_string(), "CONFLICT");
    EXPECT_EQ(call(http::verb::patch, path(id), R"({"status":"SCHEDULED"})", manager_).status, 409);
}

TEST_P(CatalogHandlers, SeatMapHasAnETagAndAnswers304) {
    const auto id = create(reserved_body());
    ASSERT_EQ(call(http::verb::patch, path(id), R"({"status":"ON_SALE"})", manager_).status, 200);
    const auto first = call(http::verb::get, path(id, "/seats"));
    ASSERT_EQ(first.status, 200) << first.payload();
    // The cached document itself goes out, not a copy: a second read of the same version
    // carries the same string.
    EXPECT_EQ(call(http::verb::get, path(id, "/seats")).shared_body, first.shared_body);
    ASSERT_NE(first.shared_body, nullptr);
    const auto etag = header_of(first, "ETag");
    EXPECT_EQ(header_of(first, "Cache-Control"), "no-cache");
    const auto doc = json(first);
    // "<event>-<process epoch>-<version>"
    EXPECT_TRUE(etag.starts_with(fmt::format("\"{}-", id))) << etag;
    EXPECT_TRUE(etag.ends_with(fmt::format("-{}\"", doc.at("version").to_number<std::uint64_t>())))
        << etag;

    const auto same = call(http::verb::get, path(id, "/seats"), {}, {}, {{"If-None-Match", etag}});
    EXPECT_EQ(same.status, 304);
    EXPECT_TRUE(same.payload().empty());
    EXPECT_EQ(header_of(same, "ETag"), etag);
    EXPECT_EQ(
        call(http::verb::get, path(id, "/seats"), {}, {}, {{"If-None-Match", "\"x\", " + etag}})
            .status,
        304);

    inventory::hold_request r;
    r.event = id;
    r.user = 1;
    r.hold = "h";
    r.items.seats = {"B-2-7"};
    r.expires_at = clock_.now() + 5min;
    ASSERT_TRUE(inventory_.hold_now(r));
    const auto changed =
        call(http::verb::get, path(id, "/seats"), {}, {}, {{"If-None-Match", etag}});
    EXPECT_EQ(changed.status, 200);
    EXPECT_NE(header_of(changed, "ETag"), etag);
    EXPECT_NE(changed.payload().find(R"({"id":"B-2-7","status":"HELD"})"), std::string::npos);
    EXPECT_EQ(seats_.serializations(), 2u);
}

TEST_P(CatalogHandlers, ListQueryParametersAreChecked) {
    EXPECT_EQ(problem_field(call(http::verb::get, "/api/v1/events?size=0")), "size");
    EXPECT_EQ(problem_field(call(http::verb::get, "/api/v1/events?size=101")), "size");
    EXPECT_EQ(problem_field(call(http::verb::get, "/api/v1/events?page=-1")), "page");
    EXPECT_EQ(problem_field(call(http::verb::get, "/api/v1/events?category=OPERA")), "category");
    EXPECT_EQ(problem_field(call(http::verb::get, "/api/v1/events?from=yesterday")), "from");
    EXPECT_EQ(problem_field(call(http::verb::get, "/api/v1/events?minPrice=x")), "minPrice");

    const auto a = create(reserved_body());
    const auto b = create(general_body());
    for (const auto id : {a, b})
        ASSERT_EQ(call(http::verb::patch, path(id), R"({"status":"SCHEDULED"})", manager_).status,
                  200);
    const auto ids = [&](std::string query) {
        std::vector<std::int64_t> out;
        const auto page = json(call(http::verb::get, "/api/v1/events?" + query));
        for (const auto& item : page.at("items").as_array())
            out.push_back(item.at("id").as_int64());
        return out;
    };
    EXPECT_EQ(ids("q=spring"), std::vector<std::int64_t>{a});
    EXPECT_EQ(ids("category=FAN_MEETING"), std::vector<std::int64_t>{b});
    EXPECT_EQ(ids("from=2027-01-23&to=2027-02-01"), std::vector<std::int64_t>{b});  // to: whole day
    EXPECT_EQ(ids("to=2027-01-22T19:00:00Z"), std::vector<std::int64_t>{a});
    EXPECT_EQ(ids("minPrice=100000"), std::vector<std::int64_t>{a});
    EXPECT_EQ(ids("location=bus"), std::vector<std::int64_t>{b});
    EXPECT_EQ(ids("status=ON_SALE"), std::vector<std::int64_t>{});
    EXPECT_EQ(ids("size=1&page=1"), std::vector<std::int64_t>{b});
}

TEST_P(CatalogHandlers, PagesWhoseOffsetIsTooDeepOrNotANumberAreRefused) {
    create(general_body());
    for (const auto* list : {"/api/v1/events", "/api/v1/manager/events"}) {
        const auto get = [&](std::string_view query) {
            return call(http::verb::get, fmt::format("{}?{}", list, query), {}, manager_);
        };
        // page × size overflows int64 (undefined behaviour before it was checked).
        EXPECT_EQ(problem_field(get("page=9223372036854775807&size=100")), "page") << list;
        EXPECT_EQ(problem_field(get("page=92233720368547759&size=100")), "page") << list;
        // Past the bound on the offset (1 000 000 rows).
        EXPECT_EQ(problem_field(get("page=10001&size=100")), "page") << list;
        EXPECT_EQ(problem_field(get("page=1000001")), "page") << list;  // size 20
        // Numbers that do not fit int64, and no numbers at all.
        EXPECT_EQ(problem_field(get("page=99999999999999999999")), "page") << list;
        EXPECT_EQ(problem_field(get("page=abc")), "page") << list;
        EXPECT_EQ(problem_field(get("page=1e3")), "page") << list;
        EXPECT_EQ(problem_field(get("size=99999999999999999999")), "size") << list;
        // The deepest page allowed is still answered, empty.
        const auto deepest = get("page=10000&size=100");
        ASSERT_EQ(deepest.status, 200) << list << deepest.body;
        EXPECT_EQ(json(deepest).at("page").as_int64(), 10000);
        EXPECT_TRUE(json(deepest).at("items").as_array().empty());
    }
}

TEST_P(CatalogHandlers, ManagerEventsListsOnlyTheirOwn) {
    create(reserved_body());
    create(general_body());
    EXPECT_EQ(call(http::verb::get, "/api/v1/manager/events", {}, user_).status, 403);
    EXPECT_EQ(call(http::verb::get, "/api/v1/manager/events").status, 401);
    const auto mine = call(http::verb::get, "/api/v1/manager/events", {}, manager_);
    ASSERT_EQ(mine.status, 200);
    EXPECT_EQ(json(mine).at("total").as_int64(), 2);
    EXPECT_EQ(
        json(call(http::verb::get, "/api/v1/manager/events", {}, other_)).at("total").as_int64(),
        0);
}

}  // namespace
}  // namespace tkt::catalog
