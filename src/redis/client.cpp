#include "redis/client.hpp"

#include <fmt/format.h>

#include "redis/cluster_client.hpp"

namespace tkt::redis {

client::client(boost::asio::any_io_executor executor, connection_options options)
    : first_(options), single_(std::make_unique<connection>(executor, std::move(options))) {}

client::client(boost::asio::any_io_executor executor, std::vector<connection_options> seeds)
    : first_(seeds.at(0)) {
    cluster_options o{.node = first_};
    for (const auto& s : seeds) o.seeds.push_back(node_address{s.host, s.port});
    cluster_ = std::make_unique<cluster_client>(executor, std::move(o));
}

client::~client() {
    close();
}

std::expected<std::unique_ptr<client>, std::string> client::from_urls(
    boost::asio::any_io_executor executor, std::string_view urls,
    std::chrono::milliseconds timeout) {
    std::vector<connection_options> nodes;
    while (!urls.empty()) {
        const auto comma = urls.find(',');
        auto one = urls.substr(0, comma);
        urls = comma == std::string_view::npos ? std::string_view{} : urls.substr(comma + 1);
        while (!one.empty() && one.front() == ' ') one.remove_prefix(1);
        while (!one.empty() && one.back() == ' ') one.remove_suffix(1);
        if (one.empty()) continue;
        auto o = parse_redis_url(one);
        if (!o) return std::unexpected(fmt::format("--redis {}: {}", one, o.error()));
        o->request_timeout = timeout;
        nodes.push_back(std::move(*o));
    }
    if (nodes.empty()) return std::unexpected(std::string("--redis: no URL"));
    if (nodes.size() == 1) return std::make_unique<client>(executor, std::move(nodes.front()));
    return std::make_unique<client>(executor, std::move(nodes));
}

boost::asio::awaitable<result> client::exec(const command& c) {
    if (single_) return single_->exec(c);
    return cluster_->exec(c);
}

boost::asio::awaitable<result> client::eval(const script& s, const std::vector<std::string>& keys,
                                            const std::vector<std::string>& args) {
    if (single_) return redis::eval(*single_, s, keys, args);
    return cluster_->eval(s, keys, args);
}

std::uint64_t client::epoch() const {
    return single_ ? single_->stats().connects : cluster_->stats().connects;
}

void client::close() {
    if (single_) single_->close();
    if (cluster_) cluster_->close();
}

}  // namespace tkt::redis
