#include "payment/sandbox_widget.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <initializer_list>
#include <utility>

#include <fmt/format.h>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include "common/encoding.hpp"

namespace tkt::payment {
namespace {

namespace json = boost::json;

// The SDK. Its calls and their order are the real widget's (DESIGN.md §7); what it draws is the
// sandbox's own. Errors are Error objects with a `code`, as the real SDK throws.
constexpr std::string_view script =
    R"JS(/* Ticketon's Toss sandbox: a stand-in for the Toss Payments widget SDK (v2). */
(function () {
    'use strict';
    var here = document.currentScript && document.currentScript.src;
    var windowUrl = new URL('window', here || location.href).href;
    function failure(code, message) {
        var e = new Error(message);
        e.code = code;
        return e;
    }
    // The element `o.selector` names, emptied, as a promise (rejected when there is none).
    function place(o) {
        var selector = o && o.selector;
        var el = typeof selector === 'string' ? document.querySelector(selector) : null;
        if (!el) return Promise.reject(failure('NOT_FOUND_ELEMENT', 'No element matches ' + selector + '.'));
        el.innerHTML = '';
        return Promise.resolve(el);
    }
    // A control and its words, side by side.
    function labelled(input, text) {
        var label = document.createElement('label');
        label.style.cssText = 'display:flex;gap:8px;align-items:center';
        label.append(input, ' ' + text);
        return label;
    }
    function TossPayments(clientKey) {
        if (typeof clientKey !== 'string' || !/^(test|live)_g?ck_/.test(clientKey)) {
            throw failure('INVALID_CLIENT_KEY', 'Not a Toss client key.');
        }
        return {
            widgets: function (options) {
                if (!/^(test|live)_gck_/.test(clientKey)) {
                    throw failure('INVALID_CLIENT_KEY', 'The payment widget needs a widget client key (gck), not an API key.');
                }
                var customerKey = options && options.customerKey;
                if (typeof customerKey !== 'string' || customerKey.length < 2) {
                    throw failure('INVALID_CUSTOMER_KEY', 'customerKey is required.');
                }
                var amount = null;
                var methods = null;
                var agreement = null;
                return {
                    setAmount: function (a) {
                        if (!a || a.currency !== 'KRW' || !Number.isInteger(a.value) || a.value <= 0) {
                            return Promise.reject(failure('INVALID_AMOUNT_VALUE', 'The amount must be a positive whole number of KRW.'));
                        }
                        amount = a.value;
                        return Promise.resolve();
                    },
                    renderPaymentMethods: function (o) {
                        return place(o).then(function (el) {
                            methods = el;
                            var box = document.createElement('fieldset');
                            box.className = 'tosspayments-sandbox-methods';
                            box.style.cssText = 'border:1px solid #c9d1dc;border-radius:8px;padding:8px 12px;margin:0';
                            var legend = document.createElement('legend');
                            legend.textContent = '결제 수단 · Payment method';
                            var radio = document.createElement('input');
                            radio.type = 'radio';
                            radio.name = 'tosspayments-sandbox-method';
                            radio.checked = true;
                            box.append(legend, labelled(radio, '샌드박스 카드 · Sandbox card'));
                            el.append(box);
                            return {
                                getSelectedPaymentMethod: function () { return Promise.resolve({ type: 'NORMAL', method: 'CARD' }); },
                                on: function () {},
                                destroy: function () { el.innerHTML = ''; methods = null; return Promise.resolve(); },
                            };
                        });
                    },
                    renderAgreement: function (o) {
                        return place(o).then(function (el) {
                            agreement = document.createElement('input');
                            agreement.type = 'checkbox';
                            agreement.setAttribute('data-testid', 'toss-agreement');
                            el.append(labelled(agreement, '[필수] 결제 서비스 이용 약관에 동의합니다 · I agree to the payment terms (required)'));
                            return {
                                on: function () {},
                                destroy: function () { el.innerHTML = ''; agreement = null; return Promise.resolve(); },
                            };
                        });
                    },
                    requestPayment: function (p) {
                        if (amount === null) return Promise.reject(failure('NEED_AMOUNT', 'Call setAmount() first.'));
                        if (!methods) return Promise.reject(failure('NEED_PAYMENT_METHOD_WIDGET', 'Call renderPaymentMethods() first.'));
                        if (agreement && !agreement.checked) {
                            return Promise.reject(failure('NEED_AGREEMENT_WITH_REQUIRED_TERMS', '필수 약관에 동의해 주세요. Please agree to the required terms.'));
                        }
                        if (!p || !p.orderId || !p.orderName || !p.successUrl || !p.failUrl) {
                            return Promise.reject(failure('INVALID_PARAMETERS', 'orderId, orderName, successUrl and failUrl are required.'));
                        }
                        var u = new URL(windowUrl);
                        u.searchParams.set('clientKey', clientKey);
                        u.searchParams.set('orderId', p.orderId);
                        u.searchParams.set('orderName', p.orderName);
                        u.searchParams.set('amount', String(amount));
                        u.searchParams.set('successUrl', p.successUrl);
                        u.searchParams.set('failUrl', p.failUrl);
                        location.assign(u.href);
                        // The page is leaving for the payment window: nothing to resolve.
                        return new Promise(function () {});
                    },
                };
            },
        };
    }
    TossPayments.ANONYMOUS = '@@ANONYMOUS';
    window.TossPayments = TossPayments;
})();
)JS";

std::string won(std::int64_t amount) {
    std::string digits = std::to_string(amount);
    std::string out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

std::string page(std::string_view title, std::string_view content) {
    return fmt::format(
        R"(<!doctype html>
<html lang="ko"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{0}</title>
<style>
body{{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f2f4f6;color:#191f28}}
main{{max-width:28rem;margin:2rem auto;background:#fff;border-radius:12px;padding:1.5rem;box-shadow:0 1px 4px #0002}}
h1{{font-size:1.25rem;margin:0 0 .5rem}} .note{{color:#4e5968;font-size:.875rem}}
dl{{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem}} dt{{color:#4e5968}} dd{{margin:0;font-weight:600}}
form{{display:grid;gap:.5rem;margin-top:1rem}}
button{{font:inherit;padding:.75rem;border-radius:8px;border:1px solid #c9d1dc;background:#fff;cursor:pointer}}
button.approve{{background:#3182f6;border-color:#3182f6;color:#fff}}
button:focus-visible{{outline:3px solid #191f28;outline-offset:2px}}
</style></head>
<body><main>{1}</main></body></html>
)",
        escape_markup(title), content);
}

window_answer refusal(std::string_view why) {
    return window_answer{
        400,
        page("결제창을 열 수 없습니다 · Cannot open the payment window",
             fmt::format("<h1>결제창을 열 수 없습니다 · Cannot open the payment window</h1>"
                         "<p data-testid=\"sandbox-refusal\">{}</p>",
                         escape_markup(why))),
        {}};
}

bool valid_client_key(std::string_view key) {
    for (std::string_view mode : {"test_", "live_"}) {
        if (!key.starts_with(mode)) continue;
        const auto rest = key.substr(mode.size());
        return (rest.starts_with("ck_") || rest.starts_with("gck_")) && key.size() <= 200 &&
               rest.find_first_of("/<>\"' ") == std::string_view::npos;
    }
    return false;
}

bool valid_return_url(std::string_view s) {
    const auto url = boost::urls::parse_absolute_uri(s);
    return url && !url->host().empty() && (url->scheme() == "https" || url->scheme() == "http") &&
           !url->has_fragment();
}

std::optional<std::int64_t> positive_amount(std::string_view s) {
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size() || v <= 0 || v > 1'000'000'000'000) {
        return std::nullopt;
    }
    return v;
}

// Why the window cannot be opened, or nullopt when every field is fine.
std::optional<std::string> check(const window_fields& f) {
    if (!valid_client_key(f.client_key)) return "clientKey is not a Toss client key.";
    if (!positive_amount(f.amount)) return "amount must be a positive whole number.";
    if (f.order_id.empty() || f.order_name.empty()) return "orderId and orderName are required.";
    if (!valid_return_url(f.success_url) || !valid_return_url(f.fail_url)) {
        return "successUrl and failUrl must be absolute http(s) URLs without a fragment.";
    }
    return std::nullopt;
}

std::string with_params(std::string_view base,
                        std::initializer_list<std::pair<std::string_view, std::string_view>> add) {
    boost::urls::url u(base);
    for (const auto& [name, value] : add) u.params().append({name, value});
    return std::string(u.buffer());
}

std::string hidden(std::string_view name, std::string_view value) {
    return fmt::format(R"(<input type="hidden" name="{}" value="{}">)", name, escape_markup(value));
}

}  // namespace

window_fields read_window_fields(
    const std::function<std::optional<std::string>(std::string_view)>& field) {
    auto get = [&](std::string_view name) { return field(name).value_or(""); };
    return window_fields{get("clientKey"),  get("orderId"), get("orderName"), get("amount"),
                         get("successUrl"), get("failUrl"), get("choice")};
}

std::string_view widget_script() {
    return script;
}

window_answer open_window(const window_fields& f) {
    if (auto why = check(f)) return refusal(*why);
    const auto amount = *positive_amount(f.amount);
    std::string fields = hidden("clientKey", f.client_key) + hidden("orderId", f.order_id);
    fields += hidden("orderName", f.order_name) + hidden("amount", f.amount);
    fields += hidden("successUrl", f.success_url) + hidden("failUrl", f.fail_url);
    return window_answer{200,
                         page("토스페이먼츠 샌드박스 · Toss Payments sandbox",
                              fmt::format(
                                  R"(<h1>토스페이먼츠 샌드박스 · Toss Payments sandbox</h1>
<p class="note">테스트 결제창입니다. 실제 돈은 오가지 않습니다. · A test payment window: no money moves.</p>
<dl><dt>주문 · Order</dt><dd data-testid="sandbox-order">{}</dd>
<dt>금액 · Amount</dt><dd data-testid="sandbox-amount">{}원</dd></dl>
<form method="post" action="window">{}
<button class="approve" name="choice" value="approve" data-testid="sandbox-approve" autofocus>승인 · Approve</button>
<button name="choice" value="decline" data-testid="sandbox-decline">카드사 거절 · Declined by the card company</button>
<button name="choice" value="cancel" data-testid="sandbox-cancel">결제 취소 · Cancel</button>
</form>)",
                                  escape_markup(f.order_name), won(amount), fields)),
                         {}};
}

window_answer submit_window(sandbox& box, const window_fields& f, sandbox::time_point now) {
    if (auto why = check(f)) return refusal(*why);
    if (f.choice == "cancel") {
        return window_answer{
            303,
            {},
            with_params(f.fail_url, {{"code", "PAY_PROCESS_CANCELED"},
                                     {"message", "사용자에 의해 결제가 취소되었습니다."},
                                     {"orderId", f.order_id}})};
    }
    if (f.choice != "approve" && f.choice != "decline") {
        return refusal("choice must be approve, decline or cancel.");
    }
    const json::object body{{"orderId", f.order_id},
                            {"amount", *positive_amount(f.amount)},
                            {"orderName", f.order_name},
                            {"outcome", f.choice}};
    auto made = box.create(json::serialize(body), now);
    const auto& answer = made.body.as_object();
    auto text = [&](std::string_view key) -> std::string {
        const auto* v = answer.if_contains(key);
        return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
    };
    if (made.status != 201) {
        return window_answer{303,
                             {},
                             with_params(f.fail_url, {{"code", text("code")},
                                                      {"message", text("message")},
                                                      {"orderId", f.order_id}})};
    }
    return window_answer{303,
                         {},
                         with_params(f.success_url, {{"paymentType", "NORMAL"},
                                                     {"orderId", f.order_id},
                                                     {"paymentKey", text("paymentKey")},
                                                     {"amount", f.amount}})};
}

}  // namespace tkt::payment
