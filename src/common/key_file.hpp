#pragma once
// Secret files generated once into the data directory (JWT signing keys, the ticket signing
// seed) so tokens and ticket codes survive restarts. Start-up only: blocking file I/O.
#include <expected>
#include <filesystem>
#include <string>
#include <string_view>

namespace tkt {

// The whole file as text, or a one-line reason.
std::expected<std::string, std::string> read_text_file(const std::filesystem::path& path);

// Writes `text` (mode 0600) next to `path` and links it into place, so two processes starting
// at once cannot both win: the loser finds the file already there (not an error) and reads the
// winner's key.
std::expected<void, std::string> publish_key_file(const std::filesystem::path& path,
                                                  std::string_view text);

}  // namespace tkt
