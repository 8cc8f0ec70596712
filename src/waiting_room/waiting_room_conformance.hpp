#pragma once
// The conformance suite of the `waiting_room` port: the promises of waiting_room.hpp and
// room.hpp written against the port only, so the memory engine and the Redis engine run the
// same cases. Include in one test source per executable and instantiate once per engine at
// global scope:
//
//   TKT_INSTANTIATE_WAITING_ROOM_CONFORMANCE(memory, [] { return std::make_unique<...>(); })
#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "waiting_room/conformance_support.hpp"
#include "waiting_room/waiting_room.hpp"

namespace tkt::waiting_room::conformance {

struct engine {
    std::string name;
    std::function<std::unique_ptr<waiting_room>()> make;

    friend void PrintTo(const engine& e, std::ostream* os) { *os << e.name; }
};

class waiting_room_conformance : public ::testing::TestWithParam<engine> {
protected:
    void SetUp() override { wr_ = GetParam().make(); }

    ticket join(event_id e, user_id u, time_point now = t0) { return run(wr_->join(e, u, now)); }
    std::optional<ticket> status(event_id e, user_id u, time_point now = t0) {
        return run(wr_->status(e, u, now));
    }
    std::vector<std::pair<user_id, seq_t>> open(event_id e, std::uint64_t seed = 1) {
        return run(wr_->open(e, seed));
    }
    tick_outcome tick(event_id e, time_point now, room_settings s) {
        return run(wr_->tick(e, now, s));
    }
    // Ticks every 100 ms over [from, from + span]; everyone admitted meanwhile.
    std::vector<admission> ticks(event_id e, time_point from, std::chrono::milliseconds span,
                                 room_settings s) {
        using namespace std::chrono_literals;
        std::vector<admission> out;
        for (auto t = 0ms; t <= span; t += 100ms) {
            auto o = tick(e, from + t, s);
            out.insert(out.end(), o.admitted.begin(), o.admitted.end());
        }
        return out;
    }
    // The room's invariants hold (called at the end of the cases that change it).
    void expect_clean(event_id e, std::int32_t max_active = 1'000'000) {
        const auto broken = run(wr_->audit(e, max_active));
        EXPECT_TRUE(broken.empty()) << broken.front();
    }
    room_stats stats(event_id e) {
        auto s = run(wr_->stats(e));
        EXPECT_TRUE(s.has_value());
        return s.value_or(room_stats{});
    }

    std::unique_ptr<waiting_room> wr_;
};

TEST_P(waiting_room_conformance, join_is_idempotent_and_seqs_follow_join_order) {
    open(1);
    open(2);
    EXPECT_EQ(join(1, 100).seq, 1);
    EXPECT_EQ(join(1, 200).seq, 2);
    auto again = join(1, 100);
    EXPECT_EQ(again.seq, 1);
    EXPECT_FALSE(again.created);
    EXPECT_EQ(again.where, place::waiting);
    EXPECT_EQ(join(2, 100).seq, 1);  // rooms are per event
    EXPECT_EQ(stats(1).waiting, 2);
}

TEST_P(waiting_room_conformance, concurrent_joins_get_distinct_seqs) {
    open(1);
    constexpr int threads = 4;
    constexpr int per_thread = 250;
    std::vector<std::vector<seq_t>> got(threads);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i) {
                const user_id u = 1 + t * per_thread + i;
                got[t].push_back(join(1, u).seq);
                got[t].push_back(join(1, u).seq);  // again: the same
            }
        });
    }
    for (auto& th : pool) th.join();
    std::set<seq_t> seqs;
    for (const auto& g : got) {
        for (std::size_t i = 0; i < g.size(); i += 2) {
            EXPECT_EQ(g[i], g[i + 1]);
            seqs.insert(g[i]);
        }
    }
    EXPECT_EQ(seqs.size(), static_cast<std::size_t>(threads * per_thread));
    EXPECT_EQ(*seqs.begin(), 1);
    EXPECT_EQ(*seqs.rbegin(), threads * per_thread);
}

TEST_P(waiting_room_conformance, admits_in_order_at_the_rate_and_within_max_active) {
    using namespace std::chrono_literals;
    open(1);
    for (user_id u = 1; u <= 300; ++u) join(1, u);
    auto got = ticks(1, t0, 10'000ms, settings(20, 1000));
    ASSERT_EQ(got.size(), 200u);
    for (std::size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].seq, static_cast<seq_t>(i + 1));
    EXPECT_EQ(stats(1).head, 200);
    EXPECT_EQ(status(1, 250)->position(), 50);
    auto capped = ticks(1, t0 + 10'100ms, 10'000ms, settings(1000, 230));
    EXPECT_EQ(capped.size(), 30u);
    EXPECT_EQ(stats(1).active, 230);
    expect_clean(1, 230);
}

TEST_P(waiting_room_conformance, an_admitted_user_has_a_slot_until_the_entry_expires) {
    using namespace std::chrono_literals;
    open(1);
    join(1, 7);
    auto got = ticks(1, t0, 200ms, settings(10, 10));
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].until, t0 + 100ms + 600s);
    const auto until = got[0].until;
    EXPECT_TRUE(run(wr_->admitted(1, 7, 1, until - 1s)));
    EXPECT_FALSE(run(wr_->admitted(1, 7, 2, until - 1s)));  // another seq
    EXPECT_FALSE(run(wr_->admitted(1, 8, 1, until - 1s)));  // another user
    EXPECT_FALSE(run(wr_->admitted(2, 7, 1, until - 1s)));  // another event
    EXPECT_FALSE(run(wr_->admitted(1, 7, 1, until)));       // expired
    auto after = tick(1, until, settings(10, 10));
    EXPECT_EQ(after.removed, (std::vector<departure>{{7, 1}}));
    EXPECT_FALSE(status(1, 7, until));
    EXPECT_EQ(stats(1).active, 0);
}

TEST_P(waiting_room_conformance, holds_made_with_an_entry_free_it_when_they_end) {
    using namespace std::chrono_literals;
    open(1);
    join(1, 7);
    join(1, 8);
    ticks(1, t0, 200ms, settings(10, 1));
    EXPECT_TRUE(run(wr_->use(1, 7, 1, "h-1", t0 + 1s)));
    EXPECT_FALSE(run(wr_->use(1, 8, 2, "h-2", t0 + 1s)));  // not admitted yet
    auto in_use = run(wr_->holds_in_use(1));
    EXPECT_EQ(in_use, (std::vector<std::pair<user_id, std::string>>{{7, "h-1"}}));
    auto freed = run(wr_->holds_ended(1, {{7, "h-1"}}));
    EXPECT_EQ(freed, (std::vector<departure>{{7, 1}}));
    EXPECT_FALSE(run(wr_->admitted(1, 7, 1, t0 + 1s)));
    auto next = tick(1, t0 + 1s, settings(10, 1));
    ASSERT_EQ(next.admitted.size(), 1u);
    EXPECT_EQ(next.admitted[0].user, 8);
    expect_clean(1, 1);
}

TEST_P(waiting_room_conformance, the_pre_queue_is_shuffled_once_and_keeps_everyone_once) {
    for (user_id u = 1; u <= 200; ++u) {
        auto t = join(1, u);
        EXPECT_EQ(t.where, place::pre_queue);
    }
    EXPECT_EQ(stats(1).pre_queue, 200);
    EXPECT_TRUE(tick(1, t0, settings(100, 100)).admitted.empty());  // closed: nobody in
    auto drawn = open(1, 5);
    ASSERT_EQ(drawn.size(), 200u);
    std::set<user_id> users;
    bool join_order = true;
    for (std::size_t i = 0; i < drawn.size(); ++i) {
        users.insert(drawn[i].first);
        EXPECT_EQ(drawn[i].second, static_cast<seq_t>(i + 1));
        EXPECT_EQ(status(1, drawn[i].first)->seq, drawn[i].second);
        if (drawn[i].first != static_cast<user_id>(i + 1)) join_order = false;
    }
    EXPECT_EQ(users.size(), 200u);
    EXPECT_FALSE(join_order);
    EXPECT_TRUE(open(1, 6).empty());
    EXPECT_EQ(join(1, 999).seq, 201);
    expect_clean(1);
}

TEST_P(waiting_room_conformance, leave_and_grace) {
    using namespace std::chrono_literals;
    open(1);
    join(1, 1);
    join(1, 2);
    join(1, 3);
    EXPECT_EQ(run(wr_->leave(1, 1)), std::optional<seq_t>{1});
    EXPECT_FALSE(run(wr_->leave(1, 1)));
    EXPECT_FALSE(status(1, 1));
    run(wr_->attach(1, 3, t0));
    EXPECT_EQ(join(1, 2, t0 + 250s).seq, 2);  // back within grace
    auto gone = tick(1, t0 + 551s, settings(0, 10));
    EXPECT_EQ(gone.removed, (std::vector<departure>{{2, 2}}));  // 3 has a stream open
    EXPECT_TRUE(status(1, 3, t0 + 551s));
    run(wr_->detach(1, 3, t0 + 600s));
    EXPECT_TRUE(tick(1, t0 + 850s, settings(0, 10)).removed.empty());
    EXPECT_EQ(tick(1, t0 + 901s, settings(0, 10)).removed, (std::vector<departure>{{3, 3}}));
    EXPECT_EQ(join(1, 2, t0 + 902s).seq, 4);  // gone: the back of the line
    expect_clean(1);
}

TEST_P(waiting_room_conformance, rooms_are_listed_and_dropped) {
    join(3, 1);
    join(4, 1);
    auto rooms = run(wr_->rooms());
    std::sort(rooms.begin(), rooms.end());
    EXPECT_EQ(rooms, (std::vector<event_id>{3, 4}));
    run(wr_->drop(3));
    EXPECT_FALSE(run(wr_->stats(3)).has_value());
    EXPECT_FALSE(status(3, 1));
    EXPECT_EQ(run(wr_->rooms()), std::vector<event_id>{4});
}

}  // namespace tkt::waiting_room::conformance

#define TKT_INSTANTIATE_WAITING_ROOM_CONFORMANCE(instance, factory)             \
    namespace tkt::waiting_room::conformance {                                  \
    INSTANTIATE_TEST_SUITE_P(instance, waiting_room_conformance,                \
                             ::testing::Values(engine{#instance, factory}),     \
                             [](const ::testing::TestParamInfo<engine>& info) { \
                                 return info.param.name;                        \
                             });                                                \
    }
