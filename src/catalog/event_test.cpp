#include "catalog/event.hpp"

#include <chrono>

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "catalog/test_support.hpp"

namespace tkt::catalog {
namespace {

using namespace std::chrono_literals;
using testing::general_body;
using testing::reserved_body;

time_point at(std::string_view text) {
    const auto t = parse_rfc3339(text);
    EXPECT_TRUE(t) << text;
    return t.value_or(time_point{});
}

event valid_reserved() {
    auto e = event_from_json(reserved_body(), 7);
    EXPECT_TRUE(e) << e.error().detail;
    return *e;
}

// The field a body is refused on ("" when accepted).
std::string refused_field(const boost::json::object& body) {
    const auto e = event_from_json(body, 1);
    if (e) return {};
    EXPECT_EQ(e.error().code, problem_code::validation_failed);
    EXPECT_TRUE(e.error().detail.starts_with(e.error().field)) << e.error().detail;
    return e.error().field;
}

// reserved_body() with one change made by `edit`.
template <class F>
std::string field_after(F edit) {
    auto body = reserved_body();
    edit(body);
    return refused_field(body);
}

TEST(EventJson, AValidReservedBodyReadsWithDefaults) {
    auto body = reserved_body();
    body.erase("maxPerUser");
    body.erase("holdSeconds");
    body.erase("category");
    const auto e = event_from_json(body, 7);
    ASSERT_TRUE(e) << e.error().detail;
    EXPECT_EQ(e->manager_id, 7);
    EXPECT_EQ(e->status, event_status::draft);
    EXPECT_EQ(e->max_per_user, 4);
    EXPECT_EQ(e->hold_seconds, 300);
    EXPECT_EQ(e->category, category::etc);
    EXPECT_EQ(e->seating, seating::reserved);
    EXPECT_EQ(e->sections.size(), 2u);
    EXPECT_FALSE(e->waiting_room.enabled);
    EXPECT_EQ(e->starts_at, at("2027-01-22T19:00:00Z"));
}

TEST(EventJson, EachRuleNamesItsField) {
    using boost::json::object;
    EXPECT_EQ(field_after([](object& b) { b.erase("title"); }), "title");
    EXPECT_EQ(field_after([](object& b) { b["title"] = "   "; }), "title");
    EXPECT_EQ(field_after([](object& b) { b["title"] = std::string(201, 'x'); }), "title");
    EXPECT_EQ(field_after([](object& b) { b["title"] = 5; }), "title");
    EXPECT_EQ(field_after([](object& b) { b.erase("venue"); }), "venue");
    EXPECT_EQ(field_after([](object& b) { b["startsAt"] = "tomorrow"; }), "startsAt");
    EXPECT_EQ(field_after([](object& b) { b["startsAt"] = "2027-02-30T10:00:00Z"; }), "startsAt");
    EXPECT_EQ(field_after([](object& b) { b["salesOpenAt"] = "2027-01-22T19:00:00Z"; }),
              "salesOpenAt");
    EXPECT_EQ(field_after([](object& b) { b["salesCloseAt"] = "2027-01-15T09:00:00Z"; }),
              "salesCloseAt");
    EXPECT_EQ(field_after([](object& b) { b["seating"] = "STANDING"; }), "seating");
    EXPECT_EQ(field_after([](object& b) { b["seating"] = "GENERAL"; }), "sections");
    EXPECT_EQ(field_after([](object& b) { b["sections"] = boost::json::array{}; }), "sections");
    EXPECT_EQ(field_after([](object& b) { b.erase("grades"); }), "grades");
    EXPECT_EQ(field_after([](object& b) { b["grades"].as_array()[1].as_object()["price"] = -1; }),
              "grades[1].price");
    EXPECT_EQ(field_after([](object& b) { b["grades"].as_array()[1].as_object()["price"] = 1.5; }),
              "grades[1].price");
    EXPECT_EQ(field_after([](object& b) { b["grades"].as_array()[1].as_object()["name"] = "VIP"; }),
              "grades[1].name");
    EXPECT_EQ(field_after([](object& b) { b["grades"].as_array()[0] = 3; }), "grades[0]");
}

TEST(EventJson, SectionRulesNameThePath) {
    using boost::json::object;
    const auto section = [](object& b, std::size_t i) -> object& {
        return b["sections"].as_array()[i].as_object();
    };
    const auto row = [&](object& b, std::size_t s, std::size_t r) -> object& {
        return section(b, s)["rows"].as_array()[r].as_object();
    };
    EXPECT_EQ(field_after([&](object& b) { row(b, 1, 2)["seats"] = 0; }),
              "sections[1].rows[2].seats");
    EXPECT_EQ(field_after([&](object& b) { row(b, 1, 2)["seats"] = 501; }),
              "sections[1].rows[2].seats");
    EXPECT_EQ(field_after([&](object& b) { row(b, 0, 1)["row"] = "1"; }),
              "sections[0].rows[1].row");
    EXPECT_EQ(field_after([&](object& b) { row(b, 0, 1)["row"] = "A-1"; }),
              "sections[0].rows[1].row");
    EXPECT_EQ(field_after([&](object& b) { section(b, 1)["name"] = "A"; }), "sections[1].name");
    EXPECT_EQ(field_after([&](object& b) { section(b, 1)["name"] = "TOOLONGNAME"; }),
              "sections[1].name");
    EXPECT_EQ(field_after([&](object& b) { section(b, 1)["grade"] = "S"; }), "sections[1].grade");
    EXPECT_EQ(field_after([&](object& b) { section(b, 0)["rows"] = boost::json::array{}; }),
              "sections[0].rows");
    EXPECT_EQ(field_after([](object& b) {
                  b["zones"] = boost::json::array{
                      boost::json::object{{"name", "Z"}, {"grade", "R"}, {"capacity", 5}}};
              }),
              "zones");
}

TEST(EventJson, LimitsAndOptionalFieldsAreChecked) {
    using boost::json::object;
    EXPECT_EQ(field_after([](object& b) { b["maxPerUser"] = 0; }), "maxPerUser");
    EXPECT_EQ(field_after([](object& b) { b["maxPerUser"] = 11; }), "maxPerUser");
    EXPECT_EQ(field_after([](object& b) { b["holdSeconds"] = 0; }), "holdSeconds");
    EXPECT_EQ(field_after([](object& b) { b["holdSeconds"] = 3601; }), "holdSeconds");
    EXPECT_EQ(field_after([](object& b) { b["ageLimit"] = 20; }), "ageLimit");
    EXPECT_EQ(field_after([](object& b) { b["category"] = "OPERA"; }), "category");
    EXPECT_EQ(field_after([](object& b) { b["thumbnailUrl"] = "ftp://x/y.png"; }), "thumbnailUrl");
    EXPECT_EQ(field_after([](object& b) {
                  b["waitingRoom"] = object{{"maxActive", 0}};
              }),
              "waitingRoom.maxActive");
    EXPECT_EQ(field_after([](object& b) {
                  b["waitingRoom"] = object{{"enabled", "yes"}};
              }),
              "waitingRoom.enabled");
    EXPECT_EQ(field_after([](object& b) { b["waitingRoom"] = 1; }), "waitingRoom");
}

TEST(EventJson, GeneralAdmissionRules) {
    EXPECT_EQ(refused_field(general_body()), "");
    auto body = general_body();
    body["zones"].as_array()[0].as_object()["capacity"] = 100'001;
    EXPECT_EQ(refused_field(body), "zones[0].capacity");
    body = general_body();
    body["zones"].as_array().push_back(
        boost::json::object{{"name", "Floor"}, {"grade", "STANDING"}, {"capacity", 5}});
    EXPECT_EQ(refused_field(body), "zones[1].name");
    body = general_body();
    body.erase("zones");
    EXPECT_EQ(refused_field(body), "zones");
}

TEST(EventJson, CapacityAboveOneHundredThousandIsRefused) {
    auto body = reserved_body();
    boost::json::array rows;
    for (int r = 0; r < 201; ++r)
        rows.push_back(boost::json::object{{"row", std::to_string(r)}, {"seats", 500}});
    body["sections"].as_array()[1].as_object()["rows"] = std::move(rows);
    EXPECT_EQ(refused_field(body), "sections");
}

TEST(EventJson, ToJsonRoundTripsThroughTheReader) {
    auto e = valid_reserved();
    e.id = 12;
    const auto o = to_json(e);
    EXPECT_EQ(o.at("seating").as_string(), "RESERVED");
    EXPECT_EQ(o.at("status").as_string(), "DRAFT");
    EXPECT_EQ(o.at("minPrice").as_int64(), 99000);
    EXPECT_EQ(o.at("maxPrice").as_int64(), 150000);
    EXPECT_EQ(o.at("capacity").as_int64(), 80);
    EXPECT_EQ(o.at("thumbnailUrl").as_string(), "https://img.example.com/a.png");
    EXPECT_EQ(o.at("startsAt").as_string(), "2027-01-22T19:00:00Z");
    EXPECT_TRUE(o.at("salesCloseAt").is_null());
    EXPECT_FALSE(o.contains("zones"));
    EXPECT_EQ(o.at("waitingRoom").at("admitPerSecond").as_int64(), 50);
    const auto back = event_from_json(o, 7);
    ASSERT_TRUE(back) << back.error().detail;
    EXPECT_EQ(to_json(*back).at("sections"), o.at("sections"));
    EXPECT_FALSE(to_summary_json(e).contains("sections"));
}

TEST(EventModel, SeatIdsPricesCapacityAndLayout) {
    auto e = valid_reserved();
    e.id = 3;
    EXPECT_EQ(seat_id("A", "3", 12), "A-3-12");
    const auto ids = seat_ids(e);
    ASSERT_EQ(ids.size(), 80u);
    EXPECT_EQ(ids.front(), "A-1-1");
    EXPECT_EQ(ids[10], "A-2-1");
    EXPECT_EQ(ids.back(), "B-3-20");
    EXPECT_EQ(capacity(e), 80);
    EXPECT_EQ(seat_price(e, "A-2-10"), 150000);
    EXPECT_EQ(seat_price(e, "B-1-1"), 99000);
    EXPECT_EQ(seat_price(e, "A-2-11"), std::nullopt);
    EXPECT_EQ(seat_price(e, "A-9-1"), std::nullopt);
    EXPECT_EQ(seat_price(e, "C-1-1"), std::nullopt);
    EXPECT_EQ(seat_price(e, "A-1-01"), std::nullopt);
    EXPECT_EQ(seat_price(e, "A-1"), std::nullopt);
    EXPECT_EQ(seat_grade(e, "B-3-20"), "R");
    EXPECT_EQ(seat_grade(e, "nope"), "");
    const auto l = to_layout(e);
    EXPECT_EQ(l.event, 3);
    EXPECT_EQ(l.seats, ids);
    EXPECT_TRUE(l.zones.empty());
    EXPECT_EQ(l.max_per_user, 4);

    auto g = event_from_json(general_body(), 1);
    ASSERT_TRUE(g);
    EXPECT_EQ(zone_price(*g, "Floor"), 77000);
    EXPECT_EQ(zone_price(*g, "Balcony"), std::nullopt);
    const auto gl = to_layout(*g);
    EXPECT_TRUE(gl.seats.empty());
    ASSERT_EQ(gl.zones.size(), 1u);
    EXPECT_EQ(gl.zones[0].name, "Floor");
    EXPECT_EQ(gl.zones[0].capacity, 500);
    EXPECT_EQ(capacity(*g), 500);
}

TEST(EventModel, ARowMaySellInAnotherGradeThanItsSection) {
    using boost::json::object;
    auto body = reserved_body();
    // Section B is R; its front row is sold as VIP.
    body["sections"].as_array()[1].as_object()["rows"].as_array()[0].as_object()["grade"] = "VIP";
    const auto e = event_from_json(body, 1);
    ASSERT_TRUE(e) << e.error().detail;
    EXPECT_EQ(seat_price(*e, "B-1-20"), 150000);
    EXPECT_EQ(seat_grade(*e, "B-1-20"), "VIP");
    EXPECT_EQ(seat_price(*e, "B-2-1"), 99000);
    EXPECT_EQ(seat_grade(*e, "B-2-1"), "R");
    EXPECT_EQ(seat_price(*e, "B-1-21"), std::nullopt);
    // Written back with the row's grade (and only that row's), and read again the same.
    const auto o = to_json(*e);
    const auto& rows = o.at("sections").as_array()[1].at("rows").as_array();
    EXPECT_EQ(rows[0].at("grade").as_string(), "VIP");
    EXPECT_FALSE(rows[1].as_object().contains("grade"));
    const auto back = event_from_json(o, 1);
    ASSERT_TRUE(back) << back.error().detail;
    EXPECT_EQ(seat_price(*back, "B-1-1"), 150000);
    // A row's grade must be one of the event's.
    const auto row0 = [](object& b) -> object& {
        return b["sections"].as_array()[1].as_object()["rows"].as_array()[0].as_object();
    };
    EXPECT_EQ(field_after([&](object& b) { row0(b)["grade"] = "S"; }), "sections[1].rows[0].grade");
    EXPECT_EQ(field_after([&](object& b) { row0(b)["grade"] = 3; }), "sections[1].rows[0].grade");
}

TEST(EventModel, ARowsGradeCountsInThePriceRange) {
    auto body = reserved_body();
    auto& grades = body["grades"].as_array();
    grades.push_back(boost::json::object{{"name", "S"}, {"price", 250000}});
    body["sections"].as_array()[0].as_object()["rows"].as_array()[1].as_object()["grade"] = "S";
    const auto e = event_from_json(body, 1);
    ASSERT_TRUE(e) << e.error().detail;
    const auto o = to_json(*e);
    EXPECT_EQ(o.at("minPrice").as_int64(), 99000);
    EXPECT_EQ(o.at("maxPrice").as_int64(), 250000);
    // Every row of B sold as VIP: nothing sells at R any more, so R is no price of the event.
    for (auto& row : body["sections"].as_array()[1].as_object()["rows"].as_array())
        row.as_object()["grade"] = "VIP";
    const auto all_vip = event_from_json(body, 1);
    ASSERT_TRUE(all_vip) << all_vip.error().detail;
    EXPECT_EQ(to_json(*all_vip).at("minPrice").as_int64(), 150000);
    EXPECT_EQ(to_json(*all_vip).at("maxPrice").as_int64(), 250000);
}

TEST(EventModel, Rfc3339ParsingAndFormatting) {
    EXPECT_EQ(format_time(at("2027-01-15T17:00:00+09:00")), "2027-01-15T08:00:00Z");
    EXPECT_EQ(format_time(at("2027-01-15T08:00:00.999Z")), "2027-01-15T08:00:00Z");
    EXPECT_EQ(format_time(at("2028-02-29T00:00:00Z")), "2028-02-29T00:00:00Z");
    // Each thread keeps the text of its last two seconds: alternating, revisited and new times
    // all come out right.
    for (const auto text : {"2027-01-15T08:00:00Z", "2027-01-15T09:00:00Z", "2027-01-15T08:00:00Z",
                            "2027-01-15T10:00:00Z", "2027-01-15T08:00:00Z", "2027-01-15T09:00:00Z",
                            "2027-01-15T09:00:00Z", "2027-01-15T10:00:00Z"}) {
        EXPECT_EQ(format_time(at(text)), text);
    }
    for (const auto bad : {"2027-01-15", "2027-01-15T08:00:00", "2027-13-01T00:00:00Z",
                           "2027-02-29T00:00:00Z", "2027-01-15T24:00:00Z", "2027-01-15T08:00:00.Z",
                           "2027-01-15T08:00:00+0900", "x027-01-15T08:00:00Z"}) {
        EXPECT_FALSE(parse_rfc3339(bad)) << bad;
    }
}

TEST(EventStatus, DueStatusFollowsTheSalesWindow) {
    auto e = valid_reserved();
    e.sales_close_at = at("2027-01-20T00:00:00Z");
    const auto before = at("2027-01-15T08:59:59Z");
    const auto opening = at("2027-01-15T09:00:00Z");
    const auto closing = at("2027-01-20T00:00:00Z");
    e.status = event_status::draft;
    EXPECT_EQ(due_status(e, closing), std::nullopt);  // a DRAFT never moves by itself
    e.status = event_status::scheduled;
    EXPECT_EQ(due_status(e, before), std::nullopt);
    EXPECT_EQ(due_status(e, opening), event_status::on_sale);
    EXPECT_EQ(due_status(e, closing), event_status::closed);  // the whole window passed
    e.status = event_status::on_sale;
    EXPECT_EQ(due_status(e, opening), std::nullopt);
    EXPECT_EQ(due_status(e, closing - 1s), std::nullopt);
    EXPECT_EQ(due_status(e, closing), event_status::closed);
    e.status = event_status::sold_out;
    EXPECT_EQ(due_status(e, closing), event_status::closed);
    e.status = event_status::closed;
    EXPECT_EQ(due_status(e, closing), std::nullopt);
    e.status = event_status::cancelled;
    EXPECT_EQ(due_status(e, opening), std::nullopt);
    e.status = event_status::on_sale;
    e.sales_close_at.reset();
    EXPECT_EQ(due_status(e, closing + 1000h), std::nullopt);  // no close time: stays open
}

TEST(EventStatus, OnSaleNeedsTheStatusAndTheWindow) {
    auto e = valid_reserved();
    e.sales_close_at = at("2027-01-20T00:00:00Z");
    e.status = event_status::on_sale;
    EXPECT_FALSE(on_sale(e, at("2027-01-15T08:59:59Z")));
    EXPECT_TRUE(on_sale(e, at("2027-01-15T09:00:00Z")));
    EXPECT_FALSE(on_sale(e, at("2027-01-20T00:00:00Z")));
    e.status = event_status::sold_out;
    EXPECT_FALSE(on_sale(e, at("2027-01-16T00:00:00Z")));
}

TEST(EventStatus, ManualTransitions) {
    using enum event_status;
    EXPECT_TRUE(transition_allowed(draft, scheduled));
    EXPECT_TRUE(transition_allowed(draft, on_sale));
    EXPECT_TRUE(transition_allowed(scheduled, on_sale));
    EXPECT_TRUE(transition_allowed(on_sale, closed));
    EXPECT_TRUE(transition_allowed(sold_out, closed));
    for (const auto s : {draft, scheduled, on_sale, sold_out, closed})
        EXPECT_TRUE(transition_allowed(s, cancelled));
    EXPECT_FALSE(transition_allowed(cancelled, cancelled));
    EXPECT_FALSE(transition_allowed(scheduled, draft));
    EXPECT_FALSE(transition_allowed(on_sale, scheduled));
    EXPECT_FALSE(transition_allowed(on_sale, sold_out));  // booking's call, not a manager's
    EXPECT_FALSE(transition_allowed(closed, on_sale));
    EXPECT_FALSE(transition_allowed(draft, closed));
    EXPECT_FALSE(transition_allowed(cancelled, on_sale));
}

TEST(EventPatch, MergesFieldsAndRevalidates) {
    auto e = valid_reserved();
    e.id = 9;
    e.revision = 4;
    e.created_at = "2027-01-01T00:00:00Z";
    auto patched = apply_patch(
        e, boost::json::object{
               {"title", "New title"}, {"maxPerUser", 2}, {"managerId", 99}, {"id", 1}});
    ASSERT_TRUE(patched) << patched.error().detail;
    EXPECT_EQ(patched->title, "New title");
    EXPECT_EQ(patched->max_per_user, 2);
    EXPECT_EQ(patched->id, 9);
    EXPECT_EQ(patched->manager_id, 7);
    EXPECT_EQ(patched->revision, 4);
    EXPECT_EQ(patched->created_at, "2027-01-01T00:00:00Z");
    EXPECT_EQ(patched->sections.size(), 2u);

    // A new seating replaces the layout as a whole.
    auto to_general =
        apply_patch(e, boost::json::parse(R"({"seating":"GENERAL","grades":[{"name":"S","price":1}],
                                  "zones":[{"name":"Z","grade":"S","capacity":3}]})")
                           .as_object());
    ASSERT_TRUE(to_general) << to_general.error().detail;
    EXPECT_TRUE(to_general->sections.empty());
    EXPECT_EQ(capacity(*to_general), 3);

    auto bad = apply_patch(e, boost::json::object{{"salesOpenAt", "2027-02-01T00:00:00Z"}});
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().field, "salesOpenAt");
    EXPECT_TRUE(has_editable_fields(boost::json::object{{"venue", "x"}}));
    EXPECT_FALSE(has_editable_fields(boost::json::object{{"status", "ON_SALE"}, {"id", 3}}));
}

}  // namespace
}  // namespace tkt::catalog
