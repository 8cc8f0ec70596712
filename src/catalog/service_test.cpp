#include "catalog/service.hpp"

#include <chrono>

#include <fmt/core.h>
#include <gtest/gtest.h>

#include "bus/memory_bus.hpp"
#include "catalog/seed.hpp"
#include "catalog/test_support.hpp"

namespace tkt::catalog {
namespace {

using namespace std::chrono_literals;
using testing::general_body;
using testing::reserved_body;
using testing::run;

class CatalogService : public testing::db_fixture {
protected:
    void SetUp() override {
        db_fixture::SetUp();
        svc_ = std::make_unique<service>(*db_, inventory_, clock_);
        manager_ = make_user("m1@example.com", auth::role::manager);
        other_ = make_user("m2@example.com", auth::role::manager);
        admin_ = make_user("admin@example.com", auth::role::admin);
        user_ = make_user("u@example.com", auth::role::user);
    }
    void TearDown() override {
        svc_.reset();
        db_fixture::TearDown();
    }

    event_ptr create(boost::json::object body, auth::principal who) {
        auto e = run(io_, svc_->create(std::move(body), who));
        EXPECT_TRUE(e) << e.error().detail;
        return e ? *e : nullptr;
    }
    result<event_ptr> patch(std::int64_t id, boost::json::object body, auth::principal who) {
        return run(io_, svc_->update(id, std::move(body), who));
    }
    event_page list(list_query q, std::optional<auth::principal> viewer = std::nullopt) {
        auto p = run(io_, svc_->list(std::move(q), viewer));
        EXPECT_TRUE(p) << p.error().detail;
        return p ? *p : event_page{};
    }
    static std::vector<std::int64_t> ids(const event_page& p) {
        std::vector<std::int64_t> out;
        for (const auto& e : p.items) out.push_back(e->id);
        return out;
    }
    static boost::json::object status(std::string_view s) {
        return boost::json::object{{"status", s}};
    }

    std::unique_ptr<service> svc_;
    auth::principal manager_, other_, admin_, user_;
};

INSTANTIATE_TEST_SUITE_P(on, CatalogService, tkt::testing::all_db_engines(),
                         tkt::testing::db_engine_name);

TEST_P(CatalogService, CreateStoresADraftAndLoadsTheInventory) {
    const auto e = create(reserved_body(), manager_);
    ASSERT_TRUE(e);
    EXPECT_GT(e->id, 0);
    EXPECT_EQ(e->status, event_status::draft);
    EXPECT_EQ(e->manager_id, manager_.user_id);
    EXPECT_EQ(e->created_at, "2027-01-15T08:00:00Z");
    EXPECT_EQ(svc_->find(e->id), e);
    EXPECT_EQ(svc_->find(e->id + 100), nullptr);
    const auto counts = inventory_.counts_now(e->id);
    ASSERT_TRUE(counts);
    EXPECT_EQ(counts->capacity, 80);
    EXPECT_EQ(counts->available, 80);
}

TEST_P(CatalogService, OnlyManagersAndAdminsCreate) {
    auto refused = run(io_, svc_->create(reserved_body(), user_));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, problem_code::forbidden);
    EXPECT_TRUE(create(general_body(), admin_));
    auto bad = reserved_body();
    bad.erase("venue");
    auto invalid = run(io_, svc_->create(std::move(bad), manager_));
    ASSERT_FALSE(invalid);
    EXPECT_EQ(invalid.error().field, "venue");
}

TEST_P(CatalogService, DraftsAreListedOnlyToTheirManagerAndAdmins) {
    const auto draft = create(reserved_body(), manager_);
    const auto published = create(general_body(), manager_);
    ASSERT_TRUE(patch(published->id, status("SCHEDULED"), manager_));
    EXPECT_EQ(ids(list({})), std::vector<std::int64_t>{published->id});
    EXPECT_EQ(ids(list({}, user_)), std::vector<std::int64_t>{published->id});
    EXPECT_EQ(ids(list({}, other_)), std::vector<std::int64_t>{published->id});
    EXPECT_EQ(list({}, manager_).total, 2);
    EXPECT_EQ(list({}, admin_).total, 2);
    list_query drafts;
    drafts.status = event_status::draft;
    EXPECT_EQ(list(drafts).total, 0);
    EXPECT_EQ(ids(list(drafts, manager_)), std::vector<std::int64_t>{draft->id});

    const auto mine = run(io_, svc_->list_managed(manager_, 0, 20));
    ASSERT_TRUE(mine);
    EXPECT_EQ(mine->total, 2);
    const auto others = run(io_, svc_->list_managed(other_, 0, 20));
    ASSERT_TRUE(others);
    EXPECT_EQ(others->total, 0);
    EXPECT_FALSE(run(io_, svc_->list_managed(user_, 0, 20)));
}

TEST_P(CatalogService, SearchFiltersAndPages) {
    std::vector<std::int64_t> made;
    for (int i = 0; i < 5; ++i) {
        auto body = reserved_body();
        body["title"] = fmt::format("Show {}", i);
        body["startsAt"] = fmt::format("2027-03-0{}T19:00:00Z", i + 1);
        body["category"] = i % 2 == 0 ? "CONCERT" : "SPORTS";
        body["location"] = i < 3 ? "Seoul" : "Daegu";
        const auto e = create(std::move(body), manager_);
        ASSERT_TRUE(patch(e->id, status("SCHEDULED"), manager_));
        made.push_back(e->id);
    }
    auto cheap = general_body();
    cheap["description"] = "100% fun_night";
    const auto ga = create(std::move(cheap), manager_);
    ASSERT_TRUE(patch(ga->id, status("SCHEDULED"), manager_));

    list_query q;
    q.q = "show 3";  // case-insensitive: SQLite's LIKE for ASCII, MySQL's by the _ci collation
    EXPECT_EQ(ids(list(q)), std::vector<std::int64_t>{made[3]});
    q = {};
    q.q = "100%";
    EXPECT_EQ(ids(list(q)), std::vector<std::int64_t>{ga->id});
    q.q = "0%";  // the % is literal, not a wildcard
    EXPECT_EQ(ids(list(q)), std::vector<std::int64_t>{ga->id});
    q.q = "Arts";  // venue
    EXPECT_EQ(list(q).total, 5);
    q = {};
    q.category = category::sports;
    EXPECT_EQ(ids(list(q)), (std::vector<std::int64_t>{made[1], made[3]}));
    q = {};
    q.location = "Daegu";
    EXPECT_EQ(ids(list(q)), (std::vector<std::int64_t>{made[3], made[4]}));
    q = {};
    q.from = *parse_rfc3339("2027-03-02T19:00:00Z");
    q.to_before = *parse_rfc3339("2027-03-04T00:00:00Z");
    EXPECT_EQ(ids(list(q)), (std::vector<std::int64_t>{made[1], made[2]}));
    q = {};
    q.max_price = 80000;  // only the 77000 zone overlaps
    EXPECT_EQ(ids(list(q)), std::vector<std::int64_t>{ga->id});
    q = {};
    q.min_price = 120000;  // only events reaching 150000
    EXPECT_EQ(list(q).total, 5);
    q = {};
    q.size = 2;
    q.page = 1;
    const auto page = list(q);
    EXPECT_EQ(page.total, 6);
    // By startsAt: the February event first, then the March ones.
    EXPECT_EQ(ids(page), (std::vector<std::int64_t>{made[1], made[2]}));
    q.size = 101;
    EXPECT_FALSE(run(io_, svc_->list(q, std::nullopt)));
}

TEST_P(CatalogService, FieldsChangeOnlyWhileDraft) {
    const auto e = create(reserved_body(), manager_);
    auto renamed = patch(e->id, boost::json::object{{"title", "Renamed"}}, manager_);
    ASSERT_TRUE(renamed) << renamed.error().detail;
    EXPECT_EQ((*renamed)->title, "Renamed");
    EXPECT_EQ((*renamed)->revision, e->revision + 1);
    EXPECT_EQ(svc_->find(e->id)->title, "Renamed");
    EXPECT_EQ(e->title, "Spring Concert");  // a reader's copy never changes under it

    // A new layout reaches the inventory.
    auto rows = boost::json::parse(
        R"({"sections":[{"name":"A","grade":"VIP","rows":[{"row":"1","seats":3}]}]})");
    ASSERT_TRUE(patch(e->id, rows.as_object(), manager_));
    EXPECT_EQ(inventory_.counts_now(e->id)->capacity, 3);

    auto invalid = patch(e->id, boost::json::object{{"holdSeconds", 0}}, manager_);
    ASSERT_FALSE(invalid);
    EXPECT_EQ(invalid.error().field, "holdSeconds");

    ASSERT_TRUE(patch(e->id, status("SCHEDULED"), manager_));
    auto late = patch(e->id, boost::json::object{{"title", "Too late"}}, manager_);
    ASSERT_FALSE(late);
    EXPECT_EQ(late.error().code, problem_code::conflict);
    EXPECT_EQ(svc_->find(e->id)->title, "Renamed");
}

TEST_P(CatalogService, OwnershipDecidesWhoMayEdit) {
    const auto e = create(reserved_body(), manager_);
    auto by_other = patch(e->id, status("SCHEDULED"), other_);
    ASSERT_FALSE(by_other);
    EXPECT_EQ(by_other.error().code, problem_code::not_found);
    auto by_user = patch(e->id, status("SCHEDULED"), user_);
    ASSERT_FALSE(by_user);
    EXPECT_EQ(by_user.error().code, problem_code::forbidden);
    auto unknown = patch(e->id + 50, status("SCHEDULED"), admin_);
    ASSERT_FALSE(unknown);
    EXPECT_EQ(unknown.error().code, problem_code::not_found);
    EXPECT_TRUE(patch(e->id, status("SCHEDULED"), admin_));
}

TEST_P(CatalogService, StatusTransitions) {
    const auto e = create(reserved_body(), manager_);
    const auto expect_conflict = [&](std::string_view to) {
        auto r = patch(e->id, status(to), manager_);
        ASSERT_FALSE(r) << to;
        EXPECT_EQ(r.error().code, problem_code::conflict) << to;
    };
    expect_conflict("CLOSED");
    expect_conflict("SOLD_OUT");
    auto bad = patch(e->id, status("OPEN"), manager_);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().field, "status");

    auto opened = patch(e->id, status("ON_SALE"), manager_);
    ASSERT_TRUE(opened) << opened.error().detail;
    EXPECT_EQ((*opened)->status, event_status::on_sale);
    // "Open now" moves a later opening time to now, so holds are possible at once.
    EXPECT_EQ((*opened)->sales_open_at, clock_.now());
    EXPECT_TRUE(on_sale(**opened, clock_.now()));
    expect_conflict("SCHEDULED");
    EXPECT_TRUE(patch(e->id, status("ON_SALE"), manager_));  // already there: no change

    EXPECT_TRUE(run(io_, svc_->mark_sold_out(e->id)));
    EXPECT_FALSE(run(io_, svc_->mark_sold_out(e->id)));
    EXPECT_EQ(svc_->find(e->id)->status, event_status::sold_out);
    EXPECT_TRUE(run(io_, svc_->mark_back_on_sale(e->id)));
    EXPECT_EQ(svc_->find(e->id)->status, event_status::on_sale);

    ASSERT_TRUE(patch(e->id, status("CLOSED"), manager_));
    expect_conflict("ON_SALE");
    ASSERT_TRUE(patch(e->id, status("CANCELLED"), manager_));
    EXPECT_TRUE(patch(e->id, status("CANCELLED"), manager_));  // asking again changes nothing
    expect_conflict("ON_SALE");
    expect_conflict("CLOSED");
}

TEST_P(CatalogService, TickOpensAndClosesOnTime) {
    auto body = reserved_body();
    body["salesCloseAt"] = "2027-01-20T00:00:00Z";
    const auto e = create(std::move(body), manager_);
    const auto draft = create(general_body(), manager_);
    ASSERT_TRUE(patch(e->id, status("SCHEDULED"), manager_));

    EXPECT_TRUE(run(io_, svc_->tick(clock_.now())).empty());
    clock_.advance(1h);  // 09:00, salesOpenAt
    auto opened = run(io_, svc_->tick(clock_.now()));
    ASSERT_EQ(opened.size(), 1u);
    EXPECT_EQ(opened[0].event, e->id);
    EXPECT_EQ(opened[0].from, event_status::scheduled);
    EXPECT_EQ(opened[0].to, event_status::on_sale);
    EXPECT_EQ(svc_->find(e->id)->status, event_status::on_sale);
    EXPECT_TRUE(run(io_, svc_->tick(clock_.now())).empty());

    ASSERT_TRUE(run(io_, svc_->mark_sold_out(e->id)));
    clock_.set(*parse_rfc3339("2027-01-20T00:00:00Z"));
    auto closed = run(io_, svc_->tick(clock_.now()));
    ASSERT_EQ(closed.size(), 1u);
    EXPECT_EQ(closed[0].from, event_status::sold_out);
    EXPECT_EQ(closed[0].to, event_status::closed);
    EXPECT_EQ(svc_->find(draft->id)->status, event_status::draft);

    // Persisted: a fresh service sees the same.
    service fresh(*db_, inventory_, clock_);
    ASSERT_TRUE(run(io_, fresh.load_all()));
    EXPECT_EQ(fresh.find(e->id)->status, event_status::closed);
}

TEST_P(CatalogService, LoadAllRebuildsMemoryAndLeavesTheInventoryToBooking) {
    const auto a = create(reserved_body(), manager_);
    const auto b = create(general_body(), manager_);
    const auto c = create(general_body(), other_);
    ASSERT_TRUE(patch(a->id, boost::json::object{{"title", "Kept"}}, manager_));
    ASSERT_TRUE(patch(c->id, status("CANCELLED"), other_));

    inventory::memory_inventory fresh_inventory;
    service fresh(*db_, fresh_inventory, clock_);
    const auto loaded = run(io_, fresh.load_all());
    ASSERT_TRUE(loaded) << loaded.error().detail;
    EXPECT_EQ(*loaded, 3u);
    const auto again = fresh.find(a->id);
    ASSERT_TRUE(again);
    EXPECT_EQ(again->title, "Kept");
    EXPECT_EQ(to_json(*again), to_json(*svc_->find(a->id)));
    EXPECT_EQ(fresh.find(b->id)->zones.size(), 1u);
    EXPECT_EQ(fresh.find(c->id)->status, event_status::cancelled);
    // Booking restores layouts together with their sales and holds (booking::service::rebuild).
    EXPECT_FALSE(fresh_inventory.has_event_now(a->id));
    EXPECT_FALSE(fresh_inventory.has_event_now(b->id));
}

TEST_P(CatalogService, AStaleWriterGetsAConflictAndMemoryCatchesUp) {
    const auto e = create(reserved_body(), manager_);
    // A second node (another service on the same database) edits first.
    service other_node(*db_, inventory_, clock_);
    ASSERT_TRUE(run(io_, other_node.load_all()));
    ASSERT_TRUE(
        run(io_, other_node.update(e->id, boost::json::object{{"title", "Theirs"}}, manager_)));
    auto mine = patch(e->id, boost::json::object{{"title", "Mine"}}, manager_);
    ASSERT_FALSE(mine);
    EXPECT_EQ(mine.error().code, problem_code::conflict);
    EXPECT_EQ(svc_->find(e->id)->title, "Theirs");
    EXPECT_TRUE(patch(e->id, boost::json::object{{"title", "Mine"}}, manager_));
}

TEST_P(CatalogService, DemoSeedCreatesThreeOnSaleEventsOnce) {
    const auto made = run(io_, seed_demo(*svc_, *db_, clock_, auth::password_cost::min));
    ASSERT_TRUE(made) << made.error().detail;
    EXPECT_EQ(*made, 3);
    const auto page = list({});
    ASSERT_EQ(page.total, 3);
    std::shared_ptr<const event> reserved, general, rush;
    for (const auto& e : page.items) {
        if (e->seating == seating::general) {
            general = e;
        } else if (e->waiting_room.enabled) {
            rush = e;
        } else {
            reserved = e;
        }
    }
    ASSERT_TRUE(reserved && general && rush);
    EXPECT_EQ(rush->status, event_status::on_sale);
    EXPECT_EQ(rush->waiting_room.admit_per_second, 5);
    EXPECT_EQ(rush->waiting_room.max_active, 100);
    EXPECT_EQ(reserved->title, "Ticketon Live \u2014 Demo Night");
    EXPECT_EQ(reserved->status, event_status::on_sale);
    EXPECT_TRUE(on_sale(*reserved, clock_.now()));
    EXPECT_EQ(capacity(*reserved), 2 * 10 + 5 * 20);
    EXPECT_EQ(seat_price(*reserved, "VIP-2-10"), 150000);
    EXPECT_EQ(seat_price(*reserved, "R-5-20"), 99000);
    EXPECT_EQ(reserved->starts_at, clock_.now() + std::chrono::days{30});
    EXPECT_EQ(general->status, event_status::on_sale);
    EXPECT_EQ(capacity(*general), 500);
    EXPECT_EQ(zone_price(*general, general->zones[0].name), 77000);
    const auto again = run(io_, seed_demo(*svc_, *db_, clock_, auth::password_cost::min));
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, 0);
}

// Two nodes on one database and one bus: what one stores, the other re-reads, and the shared
// inventory's live holds survive a second node's start.
TEST_P(CatalogService, AnotherNodeSeesEveryChangeAnnouncedOnTheBusAndKeepsLiveHolds) {
    bus::memory_bus bus;
    svc_->share(bus, io_.get_executor());
    service other(*db_, inventory_, clock_);
    other.share(bus, io_.get_executor());

    const auto e = create(reserved_body(), manager_);
    ASSERT_TRUE(e);
    io_.restart();
    io_.run();  // the other node's re-read
    ASSERT_NE(other.find(e->id), nullptr);
    EXPECT_EQ(other.find(e->id)->status, event_status::draft);

    ASSERT_TRUE(patch(e->id, status("SCHEDULED"), manager_));
    io_.restart();
    io_.run();
    EXPECT_EQ(other.find(e->id)->status, event_status::scheduled);
    EXPECT_EQ(other.find(e->id)->revision, svc_->find(e->id)->revision);

    // A third node starting now loads the catalog without resetting the seats held meanwhile.
    inventory::hold_request r{e->id, 7, "h1", {}, clock_.now() + 5min};
    r.items.seats = {"A-1-1"};
    ASSERT_TRUE(run(io_, inventory_.hold(std::move(r))));
    service third(*db_, inventory_, clock_);
    ASSERT_TRUE(run(io_, third.load_all()));
    EXPECT_EQ(third.find(e->id)->status, event_status::scheduled);
    EXPECT_EQ(inventory_.counts_now(e->id)->held, 1);

    // A node that missed the news catches up with refresh_all.
    service late(*db_, inventory_, clock_);
    auto n = run(io_, late.refresh_all());
    ASSERT_TRUE(n);
    EXPECT_GE(*n, 1u);
    EXPECT_EQ(late.find(e->id)->status, event_status::scheduled);
}

}  // namespace
}  // namespace tkt::catalog
