#include "common/key_file.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <fmt/core.h>
#include <unistd.h>

namespace tkt {

std::expected<std::string, std::string> read_text_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::unexpected(fmt::format("cannot read {}", path.string()));
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::expected<void, std::string> publish_key_file(const std::filesystem::path& path,
                                                  std::string_view text) {
    const auto tmp = path.string() + fmt::format(".{}.tmp", ::getpid());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return std::unexpected(fmt::format("cannot create {}: {}", tmp, std::strerror(errno)));
    const auto written = ::write(fd, text.data(), text.size());
    const bool ok = written == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) {
        ::unlink(tmp.c_str());
        return std::unexpected(fmt::format("cannot write {}", tmp));
    }
    const int linked = ::link(tmp.c_str(), path.c_str());
    const int link_errno = errno;
    ::unlink(tmp.c_str());
    if (linked != 0 && link_errno != EEXIST) {
        return std::unexpected(
            fmt::format("cannot create {}: {}", path.string(), std::strerror(link_errno)));
    }
    return {};
}

}  // namespace tkt
