// The memory engines of the waiting room run the port's conformance suites.
#include <memory>

#include <gtest/gtest.h>

#include "waiting_room/lease_conformance.hpp"
#include "waiting_room/memory_lease.hpp"
#include "waiting_room/memory_waiting_room.hpp"
#include "waiting_room/waiting_room_conformance.hpp"

TKT_INSTANTIATE_WAITING_ROOM_CONFORMANCE(
    memory, []() -> std::unique_ptr<tkt::waiting_room::waiting_room> {
        return std::make_unique<tkt::waiting_room::memory_waiting_room>();
    })

TKT_INSTANTIATE_LEASE_CONFORMANCE(memory, []() -> std::unique_ptr<tkt::waiting_room::lease> {
    return std::make_unique<tkt::waiting_room::memory_lease>();
})

namespace tkt::waiting_room {
namespace {

using conformance::t0;

TEST(memory_waiting_room, save_and_restore_keep_every_seq_and_the_head) {
    using namespace std::chrono_literals;
    memory_waiting_room a;
    conformance::run(a.open(1, 1));
    for (user_id u = 1; u <= 10; ++u) conformance::run(a.join(1, u, t0));
    conformance::run(a.tick(1, t0, conformance::settings(30, 100)));
    conformance::run(a.tick(1, t0 + 100ms, conformance::settings(30, 100)));
    auto saved = a.save_now(1);
    ASSERT_TRUE(saved);
    memory_waiting_room b;
    EXPECT_TRUE(b.restore_now(1, *saved, t0 + 1s, restore_mode::replace));
    auto before = conformance::run(a.stats(1));
    auto after = conformance::run(b.stats(1));
    ASSERT_TRUE(after);
    EXPECT_EQ(after->head, before->head);
    EXPECT_EQ(after->head, 3);
    EXPECT_EQ(after->active, 3);
    for (user_id u = 1; u <= 10; ++u) {
        EXPECT_EQ(conformance::run(b.status(1, u, t0 + 1s))->seq,
                  conformance::run(a.status(1, u, t0 + 1s))->seq);
    }
    EXPECT_FALSE(memory_waiting_room{}.save_now(1));
    // Only if absent: the room b has now stays as it is.
    saved->head = 1;
    EXPECT_FALSE(conformance::run(b.restore(1, *saved, t0 + 2s, restore_mode::only_if_absent)));
    EXPECT_EQ(conformance::run(b.stats(1))->head, 3);
    EXPECT_TRUE(conformance::run(b.restore(2, *saved, t0 + 2s, restore_mode::only_if_absent)));
    EXPECT_EQ(conformance::run(b.stats(2))->head, 1);
}

}  // namespace
}  // namespace tkt::waiting_room
