#include "common/json_text.hpp"

#include <cstdint>
#include <limits>
#include <string>

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace tkt {
namespace {

std::string as_json(std::string_view s) {
    std::string out;
    append_json_string(out, s);
    return out;
}

TEST(JsonText, StringsComeBackAsTheyWentIn) {
    for (const std::string& s :
         {std::string(""), std::string("A-1-12"), std::string("say \"hi\""),
          std::string("back\\slash"), std::string("line\nfeed\ttab\r"), std::string("nul\0byte", 8),
          std::string("\x01\x1f\x7f"), std::string("서울 \xf0\x9f\x8e\xab")}) {
        const auto text = as_json(s);
        boost::system::error_code ec;
        auto v = boost::json::parse(text, ec);
        ASSERT_FALSE(ec) << text;
        ASSERT_TRUE(v.is_string()) << text;
        EXPECT_EQ(std::string(v.as_string()), s) << text;
    }
    EXPECT_EQ(as_json("a\"b"), R"("a\"b")");
    EXPECT_EQ(as_json(std::string("\x01", 1)), R"("\u0001")");
}

TEST(JsonText, IntegersOfEverySize) {
    for (const std::int64_t n :
         {std::int64_t{0}, std::int64_t{-1}, std::int64_t{150000},
          std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()}) {
        std::string out;
        append_json_int(out, n);
        EXPECT_EQ(out, std::to_string(n));
        EXPECT_EQ(boost::json::parse(out).to_number<std::int64_t>(), n);
    }
}

}  // namespace
}  // namespace tkt
