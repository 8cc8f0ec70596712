#include "catalog/seed.hpp"

#include <chrono>
#include <utility>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "auth/service.hpp"
#include "auth/user_store.hpp"
#include "common/encoding.hpp"
#include "common/log.hpp"

namespace tkt::catalog {
namespace {

using boost::asio::awaitable;

constexpr auto demo_starts_in = std::chrono::days{30};

boost::json::object common_body(std::string title, time_point now) {
    const auto opens = std::chrono::floor<std::chrono::seconds>(now);
    return {{"title", std::move(title)},
            {"description", "A demo event created on first start. Book a seat to try Ticketon."},
            {"venue", "Ticketon Hall"},
            {"location", "Seoul"},
            {"category", "CONCERT"},
            {"startsAt", format_time(opens + demo_starts_in)},
            {"salesOpenAt", format_time(opens)},
            {"maxPerUser", 4},
            {"holdSeconds", 300}};
}

boost::json::object row_list(int rows, int seats) {
    boost::json::array out;
    for (int r = 1; r <= rows; ++r)
        out.push_back(boost::json::object{{"row", std::to_string(r)}, {"seats", seats}});
    return {{"rows", std::move(out)}};
}

boost::json::object reserved_body(time_point now) {
    auto body = common_body("Ticketon Live \u2014 Demo Night", now);
    body["seating"] = "RESERVED";
    body["grades"] = boost::json::array{boost::json::object{{"name", "VIP"}, {"price", 150000}},
                                        boost::json::object{{"name", "R"}, {"price", 99000}}};
    auto vip = row_list(2, 10);
    vip["name"] = "VIP";
    vip["grade"] = "VIP";
    auto r = row_list(5, 20);
    r["name"] = "R";
    r["grade"] = "R";
    body["sections"] = boost::json::array{std::move(vip), std::move(r)};
    return body;
}

boost::json::object general_body(time_point now) {
    auto body = common_body("Ticketon Standing \u2014 Demo Party", now);
    body["seating"] = "GENERAL";
    body["grades"] =
        boost::json::array{boost::json::object{{"name", "STANDING"}, {"price", 77000}}};
    body["zones"] = boost::json::array{
        boost::json::object{{"name", "Standing"}, {"grade", "STANDING"}, {"capacity", 500}}};
    return body;
}

// An on-sale rush: the same hall, its waiting room on, letting five people a second in.
boost::json::object rush_body(time_point now) {
    auto body = reserved_body(now);
    body["title"] = "Ticketon Rush \u2014 Demo On-Sale";
    body["description"] =
        "A demo event with a waiting room: join its queue, wait for your entry token, then hold.";
    body["waitingRoom"] = boost::json::object{
        {"enabled", true}, {"admitPerSecond", 5}, {"maxActive", 100}, {"entryTtlSeconds", 600}};
    return body;
}

// The demo manager's id, creating the account (on a DB thread: hashing is slow) when missing.
awaitable<result<std::int64_t>> demo_manager(db::database& db, const clock& clk,
                                             auth::password_cost cost) {
    return db.run([&db, &clk, cost](db::connection& c) -> result<std::int64_t> {
        auto found = auth::user_store(c).find_by_email(demo_manager_email);
        if (!found)
            return std::unexpected(make_problem(problem_code::internal, found.error().message));
        if (*found) return (*found)->id;
        const auto password = base64url_encode(random_bytes(12));
        auto created = auth::create_user(db, demo_manager_email, password, "Demo Manager",
                                         auth::role::manager, cost, clk);
        if (!created) return std::unexpected(std::move(created.error()));
        // Logged once, here: the password is stored nowhere else.
        log::warn("catalog.demo_manager_created",
                  {{"email", demo_manager_email}, {"password", password}});
        return created->id;
    });
}

awaitable<result<void>> create_on_sale(service& svc, boost::json::object body,
                                       auth::principal who) {
    auto op = svc.create(std::move(body), who);
    auto created = co_await std::move(op);
    if (!created) co_return std::unexpected(std::move(created.error()));
    auto open = svc.update((*created)->id, boost::json::object{{"status", "ON_SALE"}}, who);
    auto opened = co_await std::move(open);
    if (!opened) co_return std::unexpected(std::move(opened.error()));
    log::info("catalog.demo_event", {{"eventId", (*opened)->id}, {"title", (*opened)->title}});
    co_return result<void>{};
}

}  // namespace

awaitable<result<int>> seed_demo(service& svc, db::database& db, const clock& clk,
                                 auth::password_cost cost) {
    auto count =
        co_await db.run([](db::connection& c) { return c.exec("SELECT COUNT(*) FROM events"); });
    if (!count)
        co_return std::unexpected(make_problem(problem_code::internal, count.error().message));
    if (count->rows.front().int64(0) != 0) co_return 0;
    auto manager = co_await demo_manager(db, clk, cost);
    if (!manager) co_return std::unexpected(std::move(manager.error()));
    const auth::principal who{.user_id = *manager, .role = auth::role::manager};
    auto first = create_on_sale(svc, reserved_body(clk.now()), who);
    if (auto ok = co_await std::move(first); !ok) co_return std::unexpected(std::move(ok.error()));
    auto second = create_on_sale(svc, general_body(clk.now()), who);
    if (auto ok = co_await std::move(second); !ok) co_return std::unexpected(std::move(ok.error()));
    auto third = create_on_sale(svc, rush_body(clk.now()), who);
    if (auto ok = co_await std::move(third); !ok) co_return std::unexpected(std::move(ok.error()));
    co_return 3;
}

}  // namespace tkt::catalog
