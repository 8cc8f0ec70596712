// The bus conformance suite against the in-process engine: one node.
#include <memory>

#include "bus/bus_conformance.hpp"
#include "bus/memory_bus.hpp"

namespace tkt::bus {
namespace {

class memory_deployment final : public conformance::deployment {
public:
    bus& node(int) override { return bus_; }
    void wait_subscribed(const std::string&, int) override {}
    int nodes() const override { return 1; }

private:
    memory_bus bus_;
};

}  // namespace
}  // namespace tkt::bus

TKT_INSTANTIATE_BUS_CONFORMANCE(memory, [] {
    return std::shared_ptr<tkt::bus::conformance::deployment>(
        std::make_shared<tkt::bus::memory_deployment>());
})
