#pragma once
// For tests: a fresh directory under the system's temp dir, made by mkdtemp (unique even across
// the parallel processes CTest runs), removed with everything in it when the object goes.
// Declare it before whatever keeps files open in it (a database), so it is destroyed after.
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#include <stdlib.h>

namespace tkt::testing {

class temp_dir {
public:
    explicit temp_dir(std::string_view prefix = "test") {
        std::string pattern =
            (std::filesystem::temp_directory_path() / ("tkt-" + std::string(prefix) + "-XXXXXX"))
                .string();
        if (::mkdtemp(pattern.data()) == nullptr)
            throw std::runtime_error("mkdtemp failed for " + pattern);
        path_ = pattern;
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    const std::filesystem::path& path() const { return path_; }
    operator const std::filesystem::path&() const {
        return path_;
    }  // NOLINT(google-explicit-constructor)
    std::filesystem::path operator/(std::string_view name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

}  // namespace tkt::testing
