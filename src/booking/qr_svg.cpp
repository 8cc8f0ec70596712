#include "booking/qr_svg.hpp"

#include <climits>
#include <memory>

#include <fmt/core.h>
#include <qrencode.h>

namespace tkt::booking {
namespace {

struct qrcode_deleter {
    void operator()(QRcode* code) const { QRcode_free(code); }
};

// Appends one rectangle per run of dark modules: "M<x> <y>h<n>v1h-<n>z".
void append_row_runs(std::string& d, const QRcode& code, int y) {
    const int width = code.width;
    const auto* row = code.data + static_cast<std::ptrdiff_t>(y) * width;
    int x = 0;
    while (x < width) {
        // Bit 0 of each module byte is dark (1) or light (0); the other bits describe the
        // module's role in the symbol, which the image does not need.
        if ((row[x] & 1U) == 0) {
            ++x;
            continue;
        }
        const int start = x;
        while (x < width && (row[x] & 1U) != 0) ++x;
        const int run = x - start;
        d += fmt::format("M{} {}h{}v1h-{}z", start + qr_quiet_zone_modules,
                         y + qr_quiet_zone_modules, run, run);
    }
}

}  // namespace

std::optional<std::string> render_qr_svg(std::string_view text) {
    if (text.size() > static_cast<std::size_t>(INT_MAX)) return std::nullopt;
    // Version 0 asks for the smallest version that holds the data.
    const std::unique_ptr<QRcode, qrcode_deleter> code(
        QRcode_encodeData(static_cast<int>(text.size()),
                          reinterpret_cast<const unsigned char*>(text.data()), 0, QR_ECLEVEL_M));
    if (!code) return std::nullopt;

    std::string d;
    for (int y = 0; y < code->width; ++y) append_row_runs(d, *code, y);

    const int size = code->width + 2 * qr_quiet_zone_modules;
    const int pixels = size * qr_pixels_per_module;
    return fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" viewBox=\"0 0 {0} {0}\" "
        "width=\"{1}\" height=\"{1}\" shape-rendering=\"crispEdges\">"
        "<rect width=\"{0}\" height=\"{0}\" fill=\"#fff\"/>"
        "<path fill=\"#000\" d=\"{2}\"/></svg>\n",
        size, pixels, d);
}

}  // namespace tkt::booking
