// The answer to a hold, written as text directly (order.cpp): the JSON a client reads.
#include "booking/order.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace tkt::booking {
namespace {

order held(std::vector<std::string> seats, std::string zone, std::int32_t quantity) {
    order o;
    o.id = "ord_0VgmOuhMr0fs6AkGQqDuIy";
    o.hold_id = "hld_0VgmOuhMr0fs6AkGQqDuIy";
    o.event_id = 7;
    o.user_id = 42;
    o.items.seats = std::move(seats);
    o.items.zone = std::move(zone);
    o.items.quantity = quantity;
    o.amount = 300'000;
    o.expires_at = 1'800'000'300;  // 2027-01-15T08:05:00Z
    return o;
}

boost::json::value parsed(const std::string& text) {
    boost::system::error_code ec;
    auto v = boost::json::parse(text, ec);
    EXPECT_FALSE(ec) << text;
    return v;
}

TEST(HoldAnswer, ReservedSeatsAsDesignSaysInOrder) {
    const auto text = hold_json(held({"A-1-1", "A-1-2"}, "", 0));
    const boost::json::value expected = {{"holdId", "hld_0VgmOuhMr0fs6AkGQqDuIy"},
                                         {"orderId", "ord_0VgmOuhMr0fs6AkGQqDuIy"},
                                         {"eventId", 7},
                                         {"seats", {"A-1-1", "A-1-2"}},
                                         {"amount", 300000},
                                         {"currency", "KRW"},
                                         {"expiresAt", "2027-01-15T08:05:00Z"}};
    EXPECT_EQ(parsed(text), expected) << text;
    EXPECT_EQ(text, boost::json::serialize(expected)) << "the same keys in the same order";
}

TEST(HoldAnswer, GeneralAdmissionAndNamesThatNeedEscaping) {
    auto o = held({}, "Floor \"A\"\\1\n", 3);
    const auto text = hold_json(o);
    const boost::json::value expected = {
        {"holdId", o.hold_id}, {"orderId", o.id},
        {"eventId", 7},        {"zone", o.items.zone},
        {"quantity", 3},       {"amount", 300000},
        {"currency", "KRW"},   {"expiresAt", "2027-01-15T08:05:00Z"}};
    EXPECT_EQ(parsed(text), expected) << text;
    const auto seats = hold_json(held({"B-\"1\"-2", "서울-1-1"}, "", 0));
    EXPECT_EQ(parsed(seats).at("seats"), (boost::json::array{"B-\"1\"-2", "서울-1-1"})) << seats;
}

}  // namespace
}  // namespace tkt::booking
