#pragma once
// The conformance suite of the `lease` port (lease.hpp), for every engine:
//   TKT_INSTANTIATE_LEASE_CONFORMANCE(memory, [] { return std::make_unique<memory_lease>(); })
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "waiting_room/conformance_support.hpp"
#include "waiting_room/lease.hpp"

namespace tkt::waiting_room::conformance {

struct lease_engine {
    std::string name;
    std::function<std::unique_ptr<lease>()> make;

    friend void PrintTo(const lease_engine& e, std::ostream* os) { *os << e.name; }
};

class lease_conformance : public ::testing::TestWithParam<lease_engine> {
protected:
    void SetUp() override { lease_ = GetParam().make(); }
    bool acquire(const std::string& name, const std::string& owner, time_point now,
                 std::chrono::milliseconds ttl = std::chrono::milliseconds{3000}) {
        return run(lease_->acquire(name, owner, ttl, now));
    }
    void release(const std::string& name, const std::string& owner) {
        run(lease_->release(name, owner));
    }
    std::unique_ptr<lease> lease_;
};

TEST_P(lease_conformance, one_owner_at_a_time_until_it_runs_out) {
    using namespace std::chrono_literals;
    EXPECT_TRUE(acquire("queue.1", "node-a", t0));
    EXPECT_FALSE(acquire("queue.1", "node-b", t0 + 1s));
    EXPECT_TRUE(acquire("queue.2", "node-b", t0 + 1s));  // another name
    EXPECT_TRUE(acquire("queue.1", "node-a", t0 + 2s));  // renewed until t0 + 5 s
    EXPECT_FALSE(acquire("queue.1", "node-b", t0 + 4s));
    EXPECT_TRUE(acquire("queue.1", "node-b", t0 + 5s + 1ms));  // a's ran out
    EXPECT_FALSE(acquire("queue.1", "node-a", t0 + 6s));
}

TEST_P(lease_conformance, release_frees_only_the_owners_lease) {
    using namespace std::chrono_literals;
    EXPECT_TRUE(acquire("queue.1", "node-a", t0));
    release("queue.1", "node-b");  // not b's: kept
    EXPECT_FALSE(acquire("queue.1", "node-b", t0 + 1s));
    release("queue.1", "node-a");
    EXPECT_TRUE(acquire("queue.1", "node-b", t0 + 1s));
}

}  // namespace tkt::waiting_room::conformance

#define TKT_INSTANTIATE_LEASE_CONFORMANCE(instance, factory)                          \
    namespace tkt::waiting_room::conformance {                                        \
    INSTANTIATE_TEST_SUITE_P(instance, lease_conformance,                             \
                             ::testing::Values(lease_engine{#instance, factory}),     \
                             [](const ::testing::TestParamInfo<lease_engine>& info) { \
                                 return info.param.name;                              \
                             });                                                      \
    }
