#include "redis/script.hpp"

#include <gtest/gtest.h>

namespace tkt::redis {
namespace {

TEST(redis_script, knows_its_sha1_as_redis_computes_it) {
    // redis-cli SCRIPT LOAD "return 1" answers this digest.
    script s("return 1");
    EXPECT_EQ(s.sha1(), "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
    EXPECT_EQ(s.source(), "return 1");
}

TEST(redis_script, evalsha_carries_the_key_count_keys_then_arguments) {
    script s("return KEYS[1]");
    auto c = evalsha_command(s, {"{e:1}:a", "{e:1}:b"}, {"x"});
    EXPECT_EQ(c.parts(),
              (std::vector<std::string>{"EVALSHA", s.sha1(), "2", "{e:1}:a", "{e:1}:b", "x"}));
}

}  // namespace
}  // namespace tkt::redis
