#include "catalog/seat_map.hpp"

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <fmt/core.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "catalog/service.hpp"
#include "catalog/test_support.hpp"

namespace tkt::catalog {
namespace {

using namespace std::chrono_literals;
using testing::general_body;
using testing::reserved_body;
using testing::run;

class SeatMap : public testing::db_fixture {
protected:
    void SetUp() override {
        db_fixture::SetUp();
        svc_ = std::make_unique<service>(*db_, inventory_, clock_);
        manager_ = make_user("m@example.com", auth::role::manager);
    }

    event_ptr create(boost::json::object body) {
        auto e = run(io_, svc_->create(std::move(body), manager_));
        EXPECT_TRUE(e) << e.error().detail;
        return *e;
    }
    seat_map_body get(event_ptr e) {
        auto b = run(io_, seats_.get(std::move(e)));
        EXPECT_TRUE(b);
        return b.value_or(seat_map_body{});
    }
    void hold(std::int64_t event, std::string id, std::string seat) {
        inventory::hold_request r;
        r.event = event;
        r.user = 42;
        r.hold = std::move(id);
        r.items.seats = {std::move(seat)};
        r.expires_at = clock_.now() + 5min;
        ASSERT_TRUE(inventory_.hold_now(r));
    }

    std::unique_ptr<service> svc_;
    seat_map seats_{inventory_};
    auth::principal manager_;
};

INSTANTIATE_TEST_SUITE_P(on, SeatMap, tkt::testing::all_db_engines(), tkt::testing::db_engine_name);

TEST_P(SeatMap, AThousandReadsAtOneVersionSerializeOnce) {
    const auto e = create(reserved_body());
    const auto first = get(e);
    for (int i = 0; i < 999; ++i) {
        const auto b = get(e);
        EXPECT_EQ(b.json, first.json);  // the same string, not an equal copy
        EXPECT_EQ(b.version, first.version);
    }
    EXPECT_EQ(seats_.serializations(), 1u);
    EXPECT_TRUE(first.etag().starts_with(fmt::format("\"{}-", e->id))) << first.etag();
    EXPECT_TRUE(first.etag().ends_with(fmt::format("-{}\"", first.version))) << first.etag();
}

TEST_P(SeatMap, ReadersOnManyThreadsShareOneBody) {
    const auto e = create(reserved_body());
    const auto warm = get(e);
    std::vector<std::thread> threads;
    std::atomic<int> same{0};
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            boost::asio::io_context io;
            for (int i = 0; i < 250; ++i) {
                const auto b = run(io, seats_.get(e));
                if (b && b->json == warm.json) same.fetch_add(1);
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(same.load(), 1000);
    EXPECT_EQ(seats_.serializations(), 1u);
}

TEST_P(SeatMap, AChangeMakesANewVersionSerializedOnce) {
    const auto e = create(reserved_body());
    const auto before = get(e);
    hold(e->id, "h1", "A-1-2");
    const auto after = get(e);
    EXPECT_GT(after.version, before.version);
    EXPECT_NE(after.etag(), before.etag());
    EXPECT_EQ(get(e).json, after.json);
    EXPECT_EQ(seats_.serializations(), 2u);

    const auto doc = boost::json::parse(*after.json).as_object();
    EXPECT_EQ(doc.at("eventId").as_int64(), e->id);
    EXPECT_EQ(doc.at("version").to_number<std::uint64_t>(), after.version);
    EXPECT_EQ(doc.at("seating").as_string(), "RESERVED");
    const auto& a = doc.at("sections").as_array()[0].as_object();
    EXPECT_EQ(a.at("name").as_string(), "A");
    EXPECT_EQ(a.at("grade").as_string(), "VIP");
    EXPECT_EQ(a.at("price").as_int64(), 150000);
    const auto& row1 = a.at("rows").as_array()[0].as_object();
    EXPECT_EQ(row1.at("row").as_string(), "1");
    const auto& seats = row1.at("seats").as_array();
    ASSERT_EQ(seats.size(), 10u);
    EXPECT_EQ(seats[0].at("id").as_string(), "A-1-1");
    EXPECT_EQ(seats[0].at("status").as_string(), "AVAILABLE");
    EXPECT_EQ(seats[1].at("id").as_string(), "A-1-2");
    EXPECT_EQ(seats[1].at("status").as_string(), "HELD");
    EXPECT_FALSE(doc.contains("zones"));
}

TEST_P(SeatMap, ARowOfAnotherGradeSaysItsGradeAndPrice) {
    auto body = reserved_body();
    body["sections"].as_array()[1].as_object()["rows"].as_array()[0].as_object()["grade"] = "VIP";
    const auto e = create(body);
    const auto doc = boost::json::parse(*get(e).json).as_object();
    const auto& b = doc.at("sections").as_array()[1].as_object();
    EXPECT_EQ(b.at("grade").as_string(), "R");
    const auto& front = b.at("rows").as_array()[0].as_object();
    EXPECT_EQ(front.at("grade").as_string(), "VIP");
    EXPECT_EQ(front.at("price").as_int64(), 150000);
    const auto& second = b.at("rows").as_array()[1].as_object();
    EXPECT_FALSE(second.contains("grade"));
    EXPECT_FALSE(second.contains("price"));
}

TEST_P(SeatMap, ZonesShowWhatIsAvailable) {
    const auto e = create(general_body());
    inventory::hold_request r;
    r.event = e->id;
    r.user = 1;
    r.hold = "h";
    r.items.zone = "Floor";
    r.items.quantity = 3;
    r.expires_at = clock_.now() + 5min;
    ASSERT_TRUE(inventory_.hold_now(r));
    const auto doc = boost::json::parse(*get(e).json).as_object();
    EXPECT_EQ(doc.at("seating").as_string(), "GENERAL");
    const auto& z = doc.at("zones").as_array()[0].as_object();
    EXPECT_EQ(z.at("name").as_string(), "Floor");
    EXPECT_EQ(z.at("grade").as_string(), "STANDING");
    EXPECT_EQ(z.at("price").as_int64(), 77000);
    EXPECT_EQ(z.at("capacity").as_int64(), 500);
    EXPECT_EQ(z.at("available").as_int64(), 497);
}

TEST_P(SeatMap, AnEditedLayoutIsNeverServedFromTheOldBody) {
    const auto e = create(reserved_body());
    const auto before = get(e);
    auto edited = run(io_, svc_->update(e->id,
                                        boost::json::parse(R"({"grades":[
        {"name":"VIP","price":1},{"name":"R","price":2}]})")
                                            .as_object(),
                                        manager_));
    ASSERT_TRUE(edited) << edited.error().detail;
    const auto after = get(*edited);
    EXPECT_EQ(seats_.serializations(), 2u);
    const auto doc = boost::json::parse(*after.json).as_object();
    EXPECT_EQ(doc.at("sections").as_array()[0].at("price").as_int64(), 1);
}

TEST_P(SeatMap, UnknownToTheInventoryIsNothing) {
    auto ghost = std::make_shared<event>();
    ghost->id = 999;
    EXPECT_FALSE(run(io_, seats_.get(ghost)));
}

TEST(SeatMapSerialize, FallsBackToIdsWhenTheSnapshotOrderDiffers) {
    auto e = event_from_json(reserved_body(), 1);
    ASSERT_TRUE(e);
    e->id = 5;
    inventory::snapshot snap;
    snap.event = 5;
    snap.version = 9;
    for (const auto& id : seat_ids(*e))
        snap.seats.push_back({id, inventory::seat_status::available});
    std::swap(snap.seats[0], snap.seats[1]);
    snap.seats[0].status = inventory::seat_status::sold;  // A-1-2, now first
    snap.seats.pop_back();                                // B-3-20 unknown to the inventory
    const auto doc = boost::json::parse(serialize_seat_map(*e, snap)).as_object();
    const auto& row =
        doc.at("sections").as_array()[0].at("rows").as_array()[0].at("seats").as_array();
    EXPECT_EQ(row[0].at("status").as_string(), "AVAILABLE");
    EXPECT_EQ(row[1].at("status").as_string(), "SOLD");
    const auto& last_row =
        doc.at("sections").as_array()[1].at("rows").as_array()[2].at("seats").as_array();
    EXPECT_EQ(last_row[19].at("status").as_string(), "SOLD");
    EXPECT_EQ(doc.at("version").to_number<std::uint64_t>(), 9u);
}

}  // namespace
}  // namespace tkt::catalog
