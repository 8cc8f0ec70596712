#include "booking/qr_svg.hpp"

#include <charconv>
#include <memory>
#include <sstream>
#include <vector>

#include <gtest/gtest.h>
#include <qrencode.h>

#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>

namespace tkt::booking {
namespace {

namespace pt = boost::property_tree;

pt::ptree parse_xml(const std::string& text) {
    std::istringstream in(text);
    pt::ptree doc;
    pt::read_xml(in, doc);  // throws on malformed XML, which fails the test
    return doc;
}

int view_box_size(const pt::ptree& svg) {
    const auto box = svg.get<std::string>("<xmlattr>.viewBox");
    std::istringstream in(box);
    int x = -1, y = -1, w = 0, h = 0;
    in >> x >> y >> w >> h;
    EXPECT_EQ(x, 0);
    EXPECT_EQ(y, 0);
    EXPECT_EQ(w, h);
    return w;
}

int read_int(std::string_view d, std::size_t& pos) {
    int v = 0;
    const auto [p, ec] = std::from_chars(d.data() + pos, d.data() + d.size(), v);
    EXPECT_EQ(ec, std::errc{}) << d.substr(pos, 20);
    pos = static_cast<std::size_t>(p - d.data());
    return v;
}

void expect_text(std::string_view d, std::size_t& pos, std::string_view text) {
    ASSERT_EQ(d.substr(pos, text.size()), text) << "at " << pos;
    pos += text.size();
}

// Paints the path's "M<x> <y>h<n>v1h-<n>z" runs onto a size × size grid of light modules.
std::vector<std::vector<int>> paint(std::string_view d, int size) {
    std::vector<std::vector<int>> grid(size, std::vector<int>(size, 0));
    std::size_t pos = 0;
    while (pos < d.size()) {
        expect_text(d, pos, "M");
        const int x = read_int(d, pos);
        expect_text(d, pos, " ");
        const int y = read_int(d, pos);
        expect_text(d, pos, "h");
        const int n = read_int(d, pos);
        expect_text(d, pos, "v1h-");
        EXPECT_EQ(read_int(d, pos), n);
        expect_text(d, pos, "z");
        for (int i = 0; i < n; ++i) grid.at(y).at(x + i) = 1;
    }
    return grid;
}

TEST(QrSvg, IsWellFormedSvgWithOnePathOnAWhiteBackground) {
    const auto svg = render_qr_svg("TKT1.abc.42.signature");
    ASSERT_TRUE(svg);
    EXPECT_TRUE(svg->starts_with("<svg"));
    const auto doc = parse_xml(*svg);
    const auto& root = doc.get_child("svg");
    EXPECT_EQ(root.get<std::string>("<xmlattr>.xmlns"), "http://www.w3.org/2000/svg");
    EXPECT_EQ(root.get<std::string>("<xmlattr>.shape-rendering"), "crispEdges");
    EXPECT_EQ(root.count("path"), 1U);
    EXPECT_EQ(root.get<std::string>("rect.<xmlattr>.fill"), "#fff");
    EXPECT_FALSE(root.get<std::string>("path.<xmlattr>.d").empty());
}

TEST(QrSvg, PathDrawsExactlyTheEncodersModulesInsideAQuietZone) {
    const std::string text =
        "TKT1.ticket-1.42.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    const auto svg = render_qr_svg(text);
    ASSERT_TRUE(svg);
    const auto doc = parse_xml(*svg);
    const auto& root = doc.get_child("svg");
    const int size = view_box_size(root);
    const auto grid = paint(root.get<std::string>("path.<xmlattr>.d"), size);

    const std::unique_ptr<QRcode, decltype(&QRcode_free)> code(
        QRcode_encodeData(static_cast<int>(text.size()),
                          reinterpret_cast<const unsigned char*>(text.data()), 0, QR_ECLEVEL_M),
        &QRcode_free);
    ASSERT_TRUE(code);
    const int q = qr_quiet_zone_modules;
    ASSERT_EQ(size, code->width + 2 * q);
    for (int y = 0; y < size; ++y) {
        for (int x = 0; x < size; ++x) {
            const bool inside = x >= q && y >= q && x < size - q && y < size - q;
            const int want = inside ? (code->data[(y - q) * code->width + (x - q)] & 1) : 0;
            ASSERT_EQ(grid[y][x], want) << "module " << x << "," << y;
        }
    }
    // The top-left finder pattern starts with a run of seven dark modules.
    EXPECT_NE(svg->find("d=\"M4 4h7v1h-7z"), std::string::npos);
}

TEST(QrSvg, IsDeterministic) {
    EXPECT_EQ(render_qr_svg("same text"), render_qr_svg("same text"));
    EXPECT_NE(render_qr_svg("same text"), render_qr_svg("other text"));
}

TEST(QrSvg, LongerTextNeedsMoreModules) {
    const auto small = render_qr_svg("TKT1.a.1.x");
    const auto large = render_qr_svg(std::string(300, 'Z'));
    ASSERT_TRUE(small && large);
    const int small_size = view_box_size(parse_xml(*small).get_child("svg"));
    const int large_size = view_box_size(parse_xml(*large).get_child("svg"));
    EXPECT_EQ(small_size, 21 + 8);  // version 1
    EXPECT_GT(large_size, small_size);
}

TEST(QrSvg, TextThatCannotFitIsRefused) {
    EXPECT_FALSE(render_qr_svg(std::string(5000, 'x')));
    EXPECT_FALSE(render_qr_svg(""));
}

}  // namespace
}  // namespace tkt::booking
