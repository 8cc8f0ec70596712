#pragma once
// An `inventory` that hands every call to another one (`target()`), for decorators that change
// a few calls and pass the rest on: a node that owns its engine (the Redis conformance run), an
// engine behind a switch that makes it unreachable (booking's tests). A decorator overrides the
// calls it changes; `target()` may throw `unavailable` to make every call fail.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "inventory/inventory.hpp"

namespace tkt::inventory {

class forwarding_inventory : public inventory {
public:
    boost::asio::awaitable<void> load(layout l) override { return target().load(std::move(l)); }
    boost::asio::awaitable<restore_outcome> restore(restoration r, restore_mode mode) override {
        return target().restore(std::move(r), mode);
    }
    boost::asio::awaitable<bool> has_event(event_id e) override { return target().has_event(e); }
    boost::asio::awaitable<std::expected<hold_info, hold_failure>> hold(hold_request r) override {
        return target().hold(std::move(r));
    }
    boost::asio::awaitable<bool> release(event_id e, std::string h) override {
        return target().release(e, std::move(h));
    }
    boost::asio::awaitable<std::optional<hold_info>> pin(event_id e, std::string h) override {
        return target().pin(e, std::move(h));
    }
    boost::asio::awaitable<bool> commit(event_id e, std::string h) override {
        return target().commit(e, std::move(h));
    }
    boost::asio::awaitable<std::expected<void, hold_failure>> mark_sold(event_id e, user_id u,
                                                                        hold_items i) override {
        return target().mark_sold(e, u, std::move(i));
    }
    boost::asio::awaitable<bool> unsell(event_id e, user_id u, hold_items i) override {
        return target().unsell(e, u, std::move(i));
    }
    boost::asio::awaitable<std::vector<hold_info>> expire(time_point now) override {
        return target().expire(now);
    }
    boost::asio::awaitable<std::optional<hold_info>> find(event_id e, std::string h) override {
        return target().find(e, std::move(h));
    }
    boost::asio::awaitable<std::optional<snapshot>> snapshot_of(event_id e) override {
        return target().snapshot_of(e);
    }
    boost::asio::awaitable<std::optional<counts>> counts_of(event_id e) override {
        return target().counts_of(e);
    }
    boost::asio::awaitable<std::uint64_t> version_of(event_id e) override {
        return target().version_of(e);
    }
    boost::asio::awaitable<std::vector<std::string>> audit(event_id e) override {
        return target().audit(e);
    }

protected:
    virtual inventory& target() = 0;
};

}  // namespace tkt::inventory
