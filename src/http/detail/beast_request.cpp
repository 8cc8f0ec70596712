#include "http/detail/beast_request.hpp"

namespace tkt::http::detail {

namespace bhttp = boost::beast::http;

verb from_beast(bhttp::verb v) {
    switch (v) {
        case bhttp::verb::get:
            return verb::get;
        case bhttp::verb::head:
            return verb::head;
        case bhttp::verb::post:
            return verb::post;
        case bhttp::verb::put:
            return verb::put;
        case bhttp::verb::patch:
            return verb::patch;
        case bhttp::verb::delete_:
            return verb::delete_;
        case bhttp::verb::options:
            return verb::options;
        default:
            return verb::other;
    }
}

std::string_view lookup_header(const void* native, std::string_view name) {
    const auto& req = *static_cast<const beast_request*>(native);
    auto it = req.find(name);
    return it == req.end() ? std::string_view{} : std::string_view(it->value());
}

void adopt(beast_request& in, request& out) {
    out.method = from_beast(in.method());
    std::string_view target = in.target();
    auto question = target.find('?');
    out.path.assign(target.substr(0, question));
    if (question != std::string_view::npos) out.query.assign(target.substr(question + 1));
    out.body = std::move(in.body());
    out.bind_headers(&in, &lookup_header);
}

}  // namespace tkt::http::detail
