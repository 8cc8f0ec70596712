#include "common/paging.hpp"

#include <fmt/format.h>

namespace tkt {

bool page_in_bounds(std::int64_t page, std::int64_t size) {
    // Divided rather than multiplied: the product is what may overflow.
    return page >= 0 && size >= 1 && page <= page_offset_max / size;
}

result<page_window> page_window_of(std::int64_t page, std::int64_t size, std::int64_t size_max) {
    if (page < 0) return std::unexpected(validation_error("page", "must be 0 or more"));
    if (size < 1 || size > size_max)
        return std::unexpected(
            validation_error("size", fmt::format("must be between 1 and {}", size_max)));
    if (!page_in_bounds(page, size))
        return std::unexpected(validation_error(
            "page", fmt::format("must be at most {} with size {} (page * size at most {})",
                                page_offset_max / size, size, page_offset_max)));
    return page_window{.limit = size, .offset = page * size};
}

}  // namespace tkt
