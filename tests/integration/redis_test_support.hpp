#pragma once
// What the Redis integration tests share: an io_context run by two threads (so that the
// client's strand really is entered from several threads), and a way to run a coroutine on it
// from the test's thread and take its result.
#include <chrono>
#include <functional>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

namespace tkt::testing {

class io_threads {
public:
    explicit io_threads(int count = 2) {
        for (int i = 0; i < count; ++i) threads_.emplace_back([this] { io_.run(); });
    }
    ~io_threads() { join(); }
    io_threads(const io_threads&) = delete;
    io_threads& operator=(const io_threads&) = delete;

    boost::asio::io_context& io() { return io_; }
    boost::asio::any_io_executor executor() { return io_.get_executor(); }

    // Runs the coroutine on the io_context and waits for it here.
    template <class T>
    T run(boost::asio::awaitable<T> a) {
        return boost::asio::co_spawn(io_, std::move(a), boost::asio::use_future).get();
    }

    // Lets the work finish (clients closed first), then joins.
    void join() {
        guard_.reset();
        for (auto& t : threads_) {
            if (t.joinable()) t.join();
        }
    }

private:
    boost::asio::io_context io_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_{
        io_.get_executor()};
    std::vector<std::thread> threads_;
};

// Polls `done` every 10 ms until it holds or `timeout` passes; returns whether it held.
inline bool eventually(const std::function<bool()>& done,
                       std::chrono::milliseconds timeout = std::chrono::seconds{5}) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
        if (done()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds{10});
    }
    return done();
}

}  // namespace tkt::testing
