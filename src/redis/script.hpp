#pragma once
// Lua scripts run by their SHA1 (EVALSHA), so that only the first call on a server sends the
// source. A server that does not know the script (it restarted, failed over, or was told
// SCRIPT FLUSH) answers NOSCRIPT; `eval` then loads it (SCRIPT LOAD) and tries once more.
//
// The engines keep one `script` per operation for the life of the process; `eval` borrows it,
// so it must outlive the call. Thread-safety: a script is immutable; `eval` as `connection::exec`.
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "redis/connection.hpp"

namespace tkt::redis {

class script {
public:
    explicit script(std::string source);

    const std::string& source() const { return source_; }
    // Lower-case hex SHA1 of the source, as SCRIPT LOAD answers it.
    const std::string& sha1() const { return sha1_; }

private:
    std::string source_;
    std::string sha1_;
};

// The EVALSHA command that runs `s` on `keys` and `args`.
command evalsha_command(const script& s, const std::vector<std::string>& keys,
                        const std::vector<std::string>& args);

// Runs `s` by EVALSHA; on NOSCRIPT loads it and runs it once more. Not a coroutine itself:
// `keys` and `args` are copied into the command before it returns.
boost::asio::awaitable<result> eval(connection& c, const script& s,
                                    const std::vector<std::string>& keys,
                                    const std::vector<std::string>& args);

}  // namespace tkt::redis
