#pragma once
// A ticket's QR code as an SVG image (DESIGN.md §2: libqrencode, SVG rendered by us).
//
// Sans-io and stateless: safe from any thread. The symbol is encoded in 8-bit mode at error
// correction level M (about 15% of the symbol may be damaged and still scan), the smallest
// version that fits. The image is one <path> of the dark modules, each row's runs merged into one
// rectangle, on a white background with the 4-module quiet zone scanners need. The viewBox is
// in modules and shape-rendering is crispEdges, so it scales to any size without blurring.
#include <optional>
#include <string>
#include <string_view>

namespace tkt::booking {

inline constexpr int qr_quiet_zone_modules = 4;
// The rendered width and height attributes: 8 CSS pixels per module for viewers that do not
// size the image themselves.
inline constexpr int qr_pixels_per_module = 8;

// The SVG document for `text`, or nullopt when it does not fit a QR code (about 2.3 KB at
// level M) or the encoder fails.
std::optional<std::string> render_qr_svg(std::string_view text);

}  // namespace tkt::booking
