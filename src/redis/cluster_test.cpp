#include "redis/cluster.hpp"

#include <gtest/gtest.h>

namespace tkt::redis {
namespace {

TEST(redis_cluster, crc16_is_xmodem) {
    EXPECT_EQ(crc16("123456789"), 0x31C3);
    EXPECT_EQ(crc16(""), 0);
}

TEST(redis_cluster, key_slots_follow_the_specification) {
    EXPECT_EQ(key_slot("123456789"), 12739);
    // Values redis-cli's CLUSTER KEYSLOT gives.
    EXPECT_EQ(key_slot("foo"), 12182);
    EXPECT_EQ(key_slot("bar"), 5061);
    EXPECT_EQ(key_slot(""), 0);
}

TEST(redis_cluster, a_hash_tag_puts_keys_in_one_slot) {
    EXPECT_EQ(key_slot("{user1000}.following"), key_slot("{user1000}.followers"));
    EXPECT_EQ(key_slot("{user1000}.following"), key_slot("user1000"));
    EXPECT_EQ(hash_tag("{e:42}:seats"), "e:42");
    EXPECT_EQ(key_slot("{e:42}:seats"), key_slot("{e:42}:holds"));
}

TEST(redis_cluster, hash_tag_edge_cases) {
    // An empty first tag: the whole key is hashed.
    EXPECT_EQ(hash_tag("foo{}{bar}"), "foo{}{bar}");
    EXPECT_EQ(key_slot("foo{}{bar}"), crc16("foo{}{bar}") % slot_count);
    // The tag runs from the first '{' to the first '}' after it.
    EXPECT_EQ(hash_tag("foo{{bar}}zap"), "{bar");
    EXPECT_EQ(key_slot("foo{{bar}}zap"), crc16("{bar") % slot_count);
    EXPECT_EQ(hash_tag("foo{bar}{zap}"), "bar");
    EXPECT_EQ(hash_tag("foo{bar"), "foo{bar");
    EXPECT_EQ(hash_tag("foo}bar{"), "foo}bar{");
}

reply master(std::string host, std::int64_t port, std::string id) {
    return reply::array({reply::bulk(std::move(host)), reply::number(port),
                         reply::bulk(std::move(id)), reply::array({})});
}

TEST(redis_cluster, parses_a_cluster_slots_reply) {
    // As a 3-master cluster with one replica for the first range answers (Redis 7).
    reply r = reply::array({
        reply::array({reply::number(0), reply::number(5460), master("127.0.0.1", 7000, "a"),
                      master("127.0.0.1", 7003, "d")}),
        reply::array({reply::number(5461), reply::number(10922), master("127.0.0.1", 7001, "b")}),
        reply::array({reply::number(10923), reply::number(16383), master("", 7002, "c")}),
    });
    auto map = slot_map::from_cluster_slots(r, "10.0.0.9");
    ASSERT_TRUE(map.has_value()) << map.error();
    EXPECT_EQ(map->covered_slots(), 16384u);
    ASSERT_EQ(map->masters().size(), 3u);
    EXPECT_EQ(*map->master_of(0), (node_address{"127.0.0.1", 7000}));
    EXPECT_EQ(*map->master_of(5460), (node_address{"127.0.0.1", 7000}));
    EXPECT_EQ(*map->master_of(5461), (node_address{"127.0.0.1", 7001}));
    EXPECT_EQ(*map->master_of(12739), (node_address{"10.0.0.9", 7002}));
}

TEST(redis_cluster, a_partial_map_leaves_slots_unserved) {
    reply r =
        reply::array({reply::array({reply::number(100), reply::number(199), master("h", 1, "a")})});
    auto map = slot_map::from_cluster_slots(r, "x");
    ASSERT_TRUE(map.has_value());
    EXPECT_EQ(map->covered_slots(), 100u);
    EXPECT_EQ(map->master_of(99), nullptr);
    EXPECT_NE(map->master_of(199), nullptr);
    EXPECT_EQ(map->master_of(200), nullptr);
}

TEST(redis_cluster, a_moved_slot_points_at_its_new_master) {
    reply r =
        reply::array({reply::array({reply::number(0), reply::number(16383), master("h", 1, "a")})});
    auto map = slot_map::from_cluster_slots(r, "x");
    ASSERT_TRUE(map.has_value());
    map->assign(12739, node_address{"h", 2});
    EXPECT_EQ(*map->master_of(12739), (node_address{"h", 2}));
    EXPECT_EQ(*map->master_of(12738), (node_address{"h", 1}));
    EXPECT_EQ(map->masters().size(), 2u);
    map->assign(12738, node_address{"h", 2});
    EXPECT_EQ(map->masters().size(), 2u);
}

TEST(redis_cluster, refuses_a_malformed_cluster_slots_reply) {
    auto bad = [](reply r) { return !slot_map::from_cluster_slots(r, "h").has_value(); };
    EXPECT_TRUE(bad(reply::simple("OK")));
    EXPECT_TRUE(bad(reply::array({reply::array({reply::number(0), reply::number(1)})})));
    EXPECT_TRUE(bad(
        reply::array({reply::array({reply::number(5), reply::number(4), master("h", 1, "a")})})));
    EXPECT_TRUE(bad(reply::array(
        {reply::array({reply::number(0), reply::number(16384), master("h", 1, "a")})})));
    EXPECT_TRUE(bad(reply::array(
        {reply::array({reply::number(0), reply::number(1), master("h", 70000, "a")})})));
    EXPECT_TRUE(bad(reply::array(
        {reply::array({reply::number(0), reply::number(1), reply::array({reply::bulk("h")})})})));
}

TEST(redis_cluster, parses_moved_and_ask) {
    auto moved = parse_redirect("MOVED 3999 127.0.0.1:6381");
    ASSERT_TRUE(moved.has_value());
    EXPECT_EQ(moved->type, redirect::kind::moved);
    EXPECT_EQ(moved->slot, 3999);
    EXPECT_EQ(moved->node, (node_address{"127.0.0.1", 6381}));

    auto ask = parse_redirect("ASK 12182 ::1:7002");
    ASSERT_TRUE(ask.has_value());
    EXPECT_EQ(ask->type, redirect::kind::ask);
    EXPECT_EQ(ask->slot, 12182);
    EXPECT_EQ(ask->node, (node_address{"::1", 7002}));
    EXPECT_EQ(ask->node.to_string(), "[::1]:7002");

    auto unknown_host = parse_redirect("MOVED 1 :7001");
    ASSERT_TRUE(unknown_host.has_value());
    EXPECT_EQ(unknown_host->node.host, "");

    EXPECT_FALSE(parse_redirect("ERR unknown command"));
    EXPECT_FALSE(parse_redirect("MOVED 16384 h:1"));
    EXPECT_FALSE(parse_redirect("MOVED x h:1"));
    EXPECT_FALSE(parse_redirect("MOVED 1 h"));
    EXPECT_FALSE(parse_redirect("MOVED 1 h:0"));
    EXPECT_FALSE(parse_redirect("MOVED 1"));
}

TEST(redis_cluster, routes_by_the_first_key) {
    EXPECT_EQ(routing_key(command{"GET", "k"}), "k");
    EXPECT_EQ(routing_key(command{"set", "k", "v"}), "k");
    EXPECT_EQ(routing_key(command{"EVALSHA", "abc", "2", "{e}:a", "{e}:b", "x"}), "{e}:a");
    EXPECT_EQ(routing_key(command{"EVAL", "return 1", "0"}), std::nullopt);
    EXPECT_EQ(routing_key(command{"PING"}), std::nullopt);
    EXPECT_EQ(routing_key(command{"SCRIPT", "LOAD", "return 1"}), std::nullopt);
    EXPECT_EQ(routing_key(command{"PUBLISH", "ch", "m"}), std::nullopt);
}

}  // namespace
}  // namespace tkt::redis
