#include "waiting_room/room.hpp"

#include <algorithm>
#include <random>
#include <set>

#include <gtest/gtest.h>

namespace tkt::waiting_room {
namespace {

using namespace std::chrono_literals;

const time_point t0{std::chrono::seconds{1'800'000'000}};

room_settings settings(std::int32_t rate, std::int32_t max_active) {
    return room_settings{
        .admit_per_second = rate, .max_active = max_active, .entry_ttl = 600s, .grace = 300s};
}

// An open room with users 1..n joined in that order at t0.
room open_room(int n) {
    room r;
    r.open(1);
    for (int u = 1; u <= n; ++u) r.join(u, t0);
    return r;
}

// Ticks every 100 ms from `from` for `span`; returns the time of the last tick.
time_point run(room& r, time_point from, std::chrono::milliseconds span, const room_settings& s,
               std::vector<admission>* admitted = nullptr) {
    time_point now = from;
    for (auto t = 0ms; t <= span; t += 100ms) {
        now = from + t;
        auto out = r.tick(now, s);
        if (admitted) admitted->insert(admitted->end(), out.admitted.begin(), out.admitted.end());
    }
    return now;
}

TEST(room, join_is_idempotent_and_numbers_in_join_order) {
    auto r = open_room(0);
    auto a = r.join(10, t0);
    auto b = r.join(20, t0);
    auto again = r.join(10, t0 + 5s);
    EXPECT_TRUE(a.created);
    EXPECT_FALSE(again.created);
    EXPECT_EQ(a.seq, 1);
    EXPECT_EQ(b.seq, 2);
    EXPECT_EQ(again.seq, 1);
    EXPECT_EQ(again.where, place::waiting);
    EXPECT_EQ(b.position(), 2);
}

TEST(room, position_is_seq_minus_head_as_the_head_moves) {
    auto r = open_room(100);
    r.tick(t0, settings(10, 1000));
    r.tick(t0 + 1s, settings(10, 1000));  // ten admitted
    EXPECT_EQ(r.stats().head, 10);
    auto t = r.status(50, t0 + 1s);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->position(), 40);
    auto admitted = r.status(3, t0 + 1s);
    EXPECT_EQ(admitted->where, place::admitted);
    EXPECT_EQ(admitted->position(), 0);
    EXPECT_EQ(admitted->admitted_until, t0 + 1s + 600s);
}

TEST(room, admits_in_seq_order_at_the_rate_with_fractions_carried) {
    auto r = open_room(1000);
    std::vector<admission> got;
    // 7 per second for 10 s of 100 ms ticks: 0.7 per tick, carried over.
    run(r, t0, 10'000ms, settings(7, 100'000), &got);
    EXPECT_EQ(got.size(), 70u);
    for (std::size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].seq, static_cast<seq_t>(i + 1));
        EXPECT_EQ(got[i].user, static_cast<user_id>(i + 1));
    }
}

TEST(room, a_quiet_room_banks_no_burst) {
    auto r = open_room(0);
    r.tick(t0, settings(100, 100'000));
    r.tick(t0 + 60s, settings(100, 100'000));  // a minute with nobody in line
    for (int u = 1; u <= 500; ++u) r.join(u, t0 + 60s);
    auto out = r.tick(t0 + 60s + 100ms, settings(100, 100'000));
    // A tenth of a second's worth plus the small bank, not 6,000.
    EXPECT_LE(out.admitted.size(), 30u);
    EXPECT_GE(out.admitted.size(), 10u);
}

TEST(room, never_more_than_max_active_admitted) {
    auto r = open_room(200);
    std::vector<admission> got;
    run(r, t0, 5000ms, settings(1000, 25), &got);
    EXPECT_EQ(got.size(), 25u);
    EXPECT_EQ(r.stats().active, 25);
    // One leaves, one slot opens, the next in line gets it.
    EXPECT_TRUE(r.leave(3));
    auto out = r.tick(t0 + 5100ms, settings(1000, 25));
    ASSERT_EQ(out.admitted.size(), 1u);
    EXPECT_EQ(out.admitted[0].seq, 26);
    EXPECT_EQ(r.stats().active, 25);
}

TEST(room, an_entry_expires_and_frees_its_slot) {
    auto r = open_room(3);
    auto s = settings(100, 1);
    r.tick(t0, s);
    r.tick(t0 + 100ms, s);
    EXPECT_TRUE(r.admitted(1, 1, t0 + 100ms));
    EXPECT_FALSE(r.admitted(2, 2, t0 + 100ms));
    // Seen meanwhile so that grace does not matter; the entry runs out after 600 s.
    r.status(2, t0 + 290s);
    r.status(2, t0 + 580s);
    auto out = r.tick(t0 + 100ms + 600s, s);
    EXPECT_FALSE(r.admitted(1, 1, t0 + 100ms + 600s));
    EXPECT_EQ(std::count(out.removed.begin(), out.removed.end(), departure{1, 1}), 1);
    ASSERT_EQ(out.admitted.size(), 1u);
    EXPECT_EQ(out.admitted[0].user, 2);
    EXPECT_FALSE(r.status(1, t0 + 601s));    // out of the room
    EXPECT_EQ(r.join(1, t0 + 601s).seq, 4);  // back of the line
}

TEST(room, holds_made_with_the_entry_free_the_slot_when_all_have_ended) {
    auto r = open_room(2);
    auto s = settings(100, 1);
    r.tick(t0, s);
    r.tick(t0 + 100ms, s);
    EXPECT_FALSE(r.use(1, 2, "h-wrong-seq", t0 + 1s));
    EXPECT_FALSE(r.use(2, 2, "h-not-admitted", t0 + 1s));
    EXPECT_TRUE(r.use(1, 1, "h1", t0 + 1s));
    EXPECT_TRUE(r.use(1, 1, "h2", t0 + 1s));
    auto in_use = r.holds_in_use();
    std::sort(in_use.begin(), in_use.end());
    EXPECT_EQ(in_use, (std::vector<std::pair<user_id, std::string>>{{1, "h1"}, {1, "h2"}}));
    EXPECT_TRUE(r.holds_ended({{1, "h1"}}).empty());
    EXPECT_TRUE(r.admitted(1, 1, t0 + 2s));
    EXPECT_EQ(r.holds_ended({{1, "h2"}}), (std::vector<departure>{{1, 1}}));
    EXPECT_FALSE(r.admitted(1, 1, t0 + 2s));
    EXPECT_EQ(r.stats().active, 0);
    auto out = r.tick(t0 + 2s, s);
    ASSERT_EQ(out.admitted.size(), 1u);
    EXPECT_EQ(out.admitted[0].user, 2);
}

TEST(room, leavers_are_passed_over_at_no_cost) {
    auto r = open_room(10);
    for (user_id u : {1, 2, 3, 5}) EXPECT_EQ(r.leave(u), std::optional<seq_t>{u});
    EXPECT_FALSE(r.leave(1));
    std::vector<admission> got;
    run(r, t0, 1000ms, settings(3, 100), &got);  // about three admissions
    ASSERT_GE(got.size(), 3u);
    EXPECT_EQ(got[0].user, 4);
    EXPECT_EQ(got[1].user, 6);
    EXPECT_EQ(got[2].user, 7);
}

TEST(room, the_absent_lose_their_place_after_grace_and_the_returning_keep_it) {
    room r;
    r.open(1);
    auto s = settings(0, 10);  // nobody admitted: only grace matters
    const auto a = r.join(1, t0);
    r.join(2, t0);
    r.join(3, t0);
    r.attach(3, t0);  // 3 watches the stream the whole time
    r.tick(t0 + 200s, s);
    EXPECT_EQ(r.join(1, t0 + 200s).seq, a.seq);  // back within grace: same seq
    auto out = r.tick(t0 + 301s, s);
    EXPECT_EQ(out.removed, (std::vector<departure>{{2, 2}}));
    EXPECT_TRUE(r.status(1, t0 + 301s));
    EXPECT_TRUE(r.status(3, t0 + 301s));
    r.detach(3, t0 + 400s);  // the stream closes: grace runs from here
    auto mid = r.tick(t0 + 699s, s);
    EXPECT_EQ(mid.removed, (std::vector<departure>{{1, a.seq}}));  // 1, last seen at 200 s
    auto later = r.tick(t0 + 701s, s);
    EXPECT_EQ(later.removed, (std::vector<departure>{{3, 3}}));
    EXPECT_EQ(r.join(2, t0 + 702s).seq, 4);  // 2 was gone: a new seq at the back
}

TEST(room, the_pre_queue_is_shuffled_once_at_opening_and_everyone_keeps_one_place) {
    room r;
    const int n = 1000;
    for (int u = 1; u <= n; ++u) {
        auto t = r.join(u, t0);
        EXPECT_EQ(t.where, place::pre_queue);
        EXPECT_EQ(t.seq, 0);
    }
    r.join(7, t0);  // twice: still one place
    r.leave(8);
    EXPECT_EQ(r.stats().pre_queue, n - 1);
    auto drawn = r.open(42);
    ASSERT_EQ(drawn.size(), static_cast<std::size_t>(n - 1));
    std::set<user_id> users;
    std::set<seq_t> seqs;
    int in_join_order = 0;
    for (std::size_t i = 0; i < drawn.size(); ++i) {
        users.insert(drawn[i].first);
        seqs.insert(drawn[i].second);
        EXPECT_EQ(drawn[i].second, static_cast<seq_t>(i + 1));
        if (i > 0 && drawn[i].first > drawn[i - 1].first) ++in_join_order;
    }
    EXPECT_EQ(users.size(), drawn.size());
    EXPECT_FALSE(users.contains(8));
    EXPECT_EQ(*seqs.rbegin(), n - 1);
    // Shuffled: about half of neighbours ascend, not all of them.
    EXPECT_LT(in_join_order, 600);
    EXPECT_GT(in_join_order, 400);
    EXPECT_TRUE(r.open(43).empty());     // once only
    EXPECT_EQ(r.join(5000, t0).seq, n);  // after opening: the back of the line
    EXPECT_EQ(r.status(7, t0)->where, place::waiting);
}

TEST(room, the_same_seed_draws_the_same_order) {
    room a, b;
    for (int u = 1; u <= 50; ++u) {
        a.join(u, t0);
        b.join(u, t0);
    }
    EXPECT_EQ(a.open(9), b.open(9));
}

TEST(room, nobody_is_admitted_before_opening) {
    room r;
    for (int u = 1; u <= 10; ++u) r.join(u, t0);
    auto out = r.tick(t0 + 10s, settings(100, 100));
    EXPECT_TRUE(out.admitted.empty());
    EXPECT_EQ(r.stats().head, 0);
}

TEST(room, a_saved_room_comes_back_with_every_seq_and_its_head) {
    auto r = open_room(20);
    run(r, t0, 1000ms, settings(5, 100));
    r.leave(15);
    const auto before = r.stats();
    const auto saved = r.save();
    room back(saved, t0 + 10s);
    const auto after = back.stats();
    EXPECT_EQ(after.head, before.head);
    EXPECT_EQ(after.last_seq, before.last_seq);
    EXPECT_EQ(after.active, before.active);
    EXPECT_EQ(after.waiting, before.waiting);
    for (user_id u = 1; u <= 20; ++u) {
        auto was = r.status(u, t0 + 10s);
        auto is = back.status(u, t0 + 10s);
        ASSERT_EQ(was.has_value(), is.has_value()) << u;
        if (was) {
            EXPECT_EQ(was->seq, is->seq) << u;
            EXPECT_EQ(was->where, is->where) << u;
        }
    }
    // The next joiner continues the numbering; the head goes on from where it was.
    EXPECT_EQ(back.join(99, t0 + 10s).seq, 21);
    auto out = back.tick(t0 + 10s, settings(5, 100));
    EXPECT_GE(out.head, before.head);
}

}  // namespace
}  // namespace tkt::waiting_room

namespace tkt::waiting_room {
namespace {

// Random joins, leaves, streams, holds and ticks: after every step the room's invariants hold.
TEST(room_audit, holds_after_every_step_of_a_random_run) {
    std::mt19937_64 rng(11);
    for (int run = 0; run < 20; ++run) {
        room r;
        const std::int32_t max_active = 1 + static_cast<std::int32_t>(rng() % 8);
        const auto s = room_settings{.admit_per_second = 1 + static_cast<std::int32_t>(rng() % 40),
                                     .max_active = max_active,
                                     .entry_ttl = std::chrono::seconds{1 + rng() % 20},
                                     .grace = std::chrono::seconds{1 + rng() % 10}};
        time_point now = t0;
        int hold_id = 0;
        for (int step = 0; step < 400; ++step) {
            const user_id u = 1 + static_cast<user_id>(rng() % 30);
            switch (rng() % 9) {
                case 0:
                case 1:
                    r.join(u, now);
                    break;
                case 2:
                    r.leave(u);
                    break;
                case 3:
                    r.attach(u, now);
                    break;
                case 4:
                    r.detach(u, now);
                    break;
                case 5:
                    if (rng() % 10 == 0) r.open(rng());
                    break;
                case 6: {
                    auto t = r.status(u, now);
                    if (t && t->where == place::admitted) {
                        r.use(u, t->seq, "h" + std::to_string(++hold_id), now);
                    }
                    break;
                }
                case 7: {
                    auto in_use = r.holds_in_use();
                    if (!in_use.empty()) r.holds_ended({in_use[rng() % in_use.size()]});
                    break;
                }
                default:
                    now += std::chrono::milliseconds(100 + rng() % 900);
                    r.tick(now, s);
                    break;
            }
            const auto broken = r.audit(max_active);
            ASSERT_TRUE(broken.empty()) << "run " << run << " step " << step << ": " << broken[0];
        }
    }
}

TEST(room_audit, reports_more_admitted_than_max_active) {
    auto r = open_room(5);
    r.tick(t0, settings(100, 5));
    r.tick(t0 + 1s, settings(100, 5));
    EXPECT_TRUE(r.audit(5).empty());
    const auto broken = r.audit(3);  // maxActive lowered under those already in
    ASSERT_EQ(broken.size(), 1u);
    EXPECT_NE(broken[0].find("more than maxActive 3"), std::string::npos);
}

}  // namespace
}  // namespace tkt::waiting_room
