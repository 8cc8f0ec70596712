// One function per screen: (main, ctx, ...route captures) → renders into main.
import { api, auth, stream, request } from './api.js';
import { h, put } from './dom.js';
import { t, money, dateTime, errorText, noticeText } from './i18n.js';
import { liveSeatMap } from './seatmap.js';
import { action, requireLogin } from './ui.js';
import { socialButtons } from './social.js';

const CATEGORIES = ['CONCERT', 'MUSICAL', 'EXHIBITION', 'SPORTS', 'FAN_MEETING', 'ETC'];
const link = (href, ...children) => h('a', { href, 'data-link': true }, ...children);

export function toast(n) {
    const { title, body } = noticeText(n);
    const box = h('div', { class: 'toast', role: 'status' }, h('strong', {}, title), h('span', {}, body));
    document.body.append(box);
    setTimeout(() => box.remove(), 6000);
}

// ---- Events -------------------------------------------------------------------------------

export async function eventList(main, ctx) {
    const params = new URLSearchParams(location.search);
    const q = h('input', { type: 'search', name: 'q', value: params.get('q') || '', placeholder: t('searchPlaceholder'), 'aria-label': t('search') });
    const category = h('select', { name: 'category', 'aria-label': t('allCategories') },
        h('option', { value: '' }, t('allCategories')),
        CATEGORIES.map((c) => h('option', { value: c, selected: params.get('category') === c }, t(c))));
    const form = h('form', { class: 'search', role: 'search' }, q, category, h('button', { type: 'submit' }, t('search')));
    form.addEventListener('submit', (e) => {
        e.preventDefault();
        const next = new URLSearchParams();
        if (q.value) next.set('q', q.value);
        if (category.value) next.set('category', category.value);
        ctx.go('/' + (next.size ? '?' + next : ''));
    });
    category.addEventListener('change', () => form.requestSubmit());
    const query = new URLSearchParams({ size: '50' });
    if (params.get('q')) query.set('q', params.get('q'));
    if (params.get('category')) query.set('category', params.get('category'));
    const list = await api.get('/events?' + query);
    const cards = list.items.map((e) => h('li', { class: 'card' },
        h('h2', {}, link(`/events/${e.id}`, e.title)),
        h('p', { class: 'muted' }, `${t(e.category)} · ${e.venue} · ${dateTime(e.startsAt)}`),
        h('p', {}, h('span', { class: `status s-${e.status}` }, t(e.status)), ' ', t('fromPrice', { price: money(e.minPrice) }))));
    put(main, h('h1', {}, t('events')), form,
        cards.length ? h('ul', { class: 'cards' }, cards) : h('p', { class: 'muted' }, t('noEvents')));
}

function entryFor(eventId) {
    try {
        const entry = JSON.parse(sessionStorage.getItem('ticketon.entry.' + eventId));
        if (entry && (!entry.expiresAt || new Date(entry.expiresAt) > new Date())) return entry;
    } catch { /* none */ }
    return null;
}

export async function eventPage(main, ctx, id) {
    const event = await api.get(`/events/${id}`);
    const roomOn = Boolean(event.waitingRoom?.enabled);
    const entry = entryFor(id);
    const canPick = () => Boolean(auth.user) && (!roomOn || entry !== null);
    const max = Math.min(4, event.maxPerUser || 4);
    const holdButton = action(t('holdSeats', { n: 0 }), () => hold(), ctx, { class: 'primary', disabled: true, 'data-testid': 'hold' });
    const mapHost = h('div', { class: 'map-host' });
    const panel = h('div', { class: 'panel' });
    put(main, 
        h('h1', {}, event.title),
        h('dl', { class: 'facts' },
            h('dt', {}, t('venue')), h('dd', {}, `${event.venue}, ${event.location}`),
            h('dt', {}, t('date')), h('dd', {}, dateTime(event.startsAt)),
            h('dt', {}, t('price')), h('dd', {}, (event.grades || []).map((g) => `${g.name} ${money(g.price)}`).join(' · '))),
        h('p', {}, h('span', { class: `status s-${event.status}` }, t(event.status)), ' ', h('span', { class: 'live' }, t('live'))),
        event.description ? h('p', { class: 'description' }, event.description) : null,
        // The event's own manager, or an admin, gets the way to its control room.
        auth.atLeast('ADMIN') || (auth.atLeast('MANAGER') && String(event.managerId) === String(auth.user.id))
            ? h('p', {}, link(`/manage/events/${id}`, t('manageThisEvent'))) : null,
        panel, mapHost);

    let zone = null;
    let quantity = null;
    const map = await liveSeatMap(mapHost, event, {
        selectable: canPick,
        max,
        onSelect: (ids) => {
            holdButton.textContent = t('holdSeats', { n: ids.length });
            holdButton.disabled = ids.length === 0;
        },
    });
    ctx.onLeave(() => map.close());

    async function hold() {
        const headers = entry?.entryToken ? { 'Queue-Token': entry.entryToken } : {};
        const body = event.seating === 'GENERAL' ? { zone: zone.value, quantity: Number(quantity.value) } : { seats: map.selected() };
        try {
            const held = await api.post(`/events/${id}/holds`, body, { headers });
            sessionStorage.setItem('ticketon.hold.' + held.orderId, JSON.stringify({ ...held, title: event.title }));
            ctx.go('/checkout/' + held.orderId);
        } catch (err) {
            if (err.code === 'QUEUE_TOKEN_INVALID') sessionStorage.removeItem('ticketon.entry.' + id);
            throw err;
        }
    }

    if (!auth.user) {
        panel.append(h('p', {}, link('/login?next=' + encodeURIComponent(location.pathname), t('loginToBook'))));
    } else if (roomOn && !entry) {
        panel.append(h('p', {}, t('waitingRoom')), h('button', { type: 'button', class: 'primary', onclick: () => ctx.go(`/events/${id}/queue`) }, t('joinQueue')));
    } else if (event.seating === 'GENERAL') {
        zone = h('select', { 'aria-label': t('zones') }, (event.zones || []).map((z) => h('option', { value: z.name }, z.name)));
        quantity = h('input', { type: 'number', min: 1, max, value: 1, 'aria-label': t('quantity') });
        holdButton.disabled = false;
        holdButton.textContent = t('book');
        panel.append(h('div', { class: 'row' }, zone, quantity, holdButton));
    } else {
        panel.append(h('p', { class: 'muted' }, t('selectSeats', { n: max })), holdButton);
    }
}

// ---- Waiting room --------------------------------------------------------------------------

export async function waitingRoom(main, ctx, id) {
    if (!requireLogin(ctx)) return;
    const event = await api.get(`/events/${id}`);
    const position = h('output', { class: 'position', 'data-testid': 'position' }, '…');
    const eta = h('p', { class: 'muted' });
    const bar = h('progress', { max: 100, value: 0, 'aria-label': t('yourPosition') });
    const status = h('p', { role: 'status' });
    put(main, h('h1', {}, t('waitingRoom')), h('h2', {}, event.title),
        h('div', { class: 'queue' }, h('p', {}, t('yourPosition')), position, bar, eta, status),
        action(t('leaveQueue'), async () => { await api.del(`/events/${id}/queue`); ctx.go(`/events/${id}`); }, ctx));

    let first = null;
    const show = (p) => {
        if (p.preQueue) {
            position.textContent = '—';
            eta.textContent = t('preQueue', { t: event.salesOpenAt ? dateTime(event.salesOpenAt) : '' });
            return;
        }
        if (p.position === null || p.position === undefined) return;
        first ??= Math.max(p.position, 1);
        position.textContent = String(p.position);
        eta.textContent = `${t('peopleAhead', { n: p.position })} · ${t('eta', { s: p.etaSeconds ?? 0 })}`;
        bar.value = Math.round(100 * (first - Math.min(p.position, first)) / first);
    };
    const enter = (a) => {
        sessionStorage.setItem('ticketon.entry.' + id, JSON.stringify({ entryToken: a.entryToken ?? null, expiresAt: a.expiresAt ?? null }));
        bar.value = 100;
        status.textContent = t('admitted');
        setTimeout(() => ctx.go(`/events/${id}`, { replace: true }), 600);
    };
    const joined = await api.post(`/events/${id}/queue`);
    if (joined.status === 'ADMITTED') return enter(joined);
    show(joined);
    const feed = stream(`/events/${id}/queue/stream`, {
        position: show,
        admitted: (a) => { feed.close(); enter(a); },
    }, { authed: true });
    ctx.onLeave(() => feed.close());
}

// ---- Checkout ------------------------------------------------------------------------------

// What this server pays through (GET /payments/config): the sandbox's button, or the Toss
// payment widget loaded from widgetUrl with the server's client key.
let payConfig = null;
async function paymentConfig() {
    payConfig ??= await api.get('/payments/config', { anonymous: true });
    return payConfig;
}

// A classic script, loaded once (the widget SDK is not a module).
const scripts = new Map();
function loadScript(src) {
    if (!scripts.has(src)) {
        scripts.set(src, new Promise((resolve, reject) => {
            const tag = h('script', { src, async: true });
            tag.addEventListener('load', resolve);
            tag.addEventListener('error', () => {
                scripts.delete(src);
                tag.remove();
                reject({ code: 'WIDGET_UNAVAILABLE', problem: {} });
            });
            document.head.append(tag);
        }));
    }
    return scripts.get(src);
}

export async function checkout(main, ctx, orderId) {
    if (!requireLogin(ctx)) return;
    let hold = null;
    try { hold = JSON.parse(sessionStorage.getItem('ticketon.hold.' + orderId)); } catch { /* read it */ }
    const [order, config] = await Promise.all([api.get('/orders/' + orderId), paymentConfig()]);
    if (order.status !== 'PENDING_PAYMENT') return ctx.go('/orders/' + orderId, { replace: true });
    const expiresAt = new Date(order.expiresAt);
    // Never more than the event's hold length: expiresAt is stamped in whole seconds and the
    // browser's clock may be behind the server's, which showed 5:01 for a five-minute hold.
    const event = await api.get('/events/' + order.eventId).catch(() => null);
    const length = event?.holdSeconds ?? Infinity;
    const clock = h('output', { class: 'countdown', 'data-testid': 'countdown', 'aria-live': 'off' });
    const tick = () => {
        const left = Math.min(length, Math.max(0, Math.round((expiresAt - Date.now()) / 1000)));
        clock.textContent = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`;
        clock.classList.toggle('urgent', left < 60);
        if (left === 0) clock.textContent = t('expired');
    };
    tick();
    const timer = setInterval(tick, 1000);
    ctx.onLeave(() => clearInterval(timer));

    const orderName = hold?.title || orderId;
    const release = async () => {
        await api.del('/holds/' + order.holdId);
        ctx.go('/events/' + order.eventId, { replace: true });
    };
    const facts = [h('h1', {}, t('checkout')),
        hold?.title ? h('h2', {}, hold.title) : null,
        h('dl', { class: 'facts' },
            h('dt', {}, t('seats')), h('dd', {}, order.seats.join(', ')),
            h('dt', {}, t('total')), h('dd', {}, money(order.amount)),
            h('dt', {}, t('timeLeft')), h('dd', {}, clock))];

    if (config.provider === 'sandbox') {
        const pay = async () => {
            const payment = await api.post('/sandbox/toss/payments', { orderId, amount: order.amount, orderName }, { anonymous: true });
            await confirmPayment(ctx, orderId, payment.paymentKey, order.amount);
        };
        put(main, ...facts, h('div', { class: 'row' },
            action(t('payWithSandbox', { amount: money(order.amount) }), pay, ctx, { class: 'primary', 'data-testid': 'pay' }),
            action(t('release'), release, ctx)));
        return;
    }
    if (!config.clientKey) {
        put(main, ...facts, h('p', { class: 'notice', role: 'status' }, t('paymentsNotSetUp')),
            h('div', { class: 'row' }, action(t('release'), release, ctx)));
        return;
    }
    // The Toss payment widget: it draws the payment methods and the terms, then takes the buyer
    // to Toss's window, which comes back to /checkout/{id}/success or /fail.
    const methods = h('div', { id: 'payment-method', 'data-testid': 'payment-method' });
    const agreement = h('div', { id: 'agreement' });
    const loading = h('p', { class: 'muted' }, t('loading'));
    put(main, ...facts, methods, agreement, loading);
    // The SDK and its frames take a while: a buyer who left meanwhile is not drawn over.
    let left = false;
    ctx.onLeave(() => { left = true; });
    let widgets;
    try {
        await loadScript(config.widgetUrl);
        widgets = window.TossPayments(config.clientKey).widgets({ customerKey: window.TossPayments.ANONYMOUS });
        await widgets.setAmount({ currency: 'KRW', value: order.amount });
        await Promise.all([
            widgets.renderPaymentMethods({ selector: '#payment-method', variantKey: 'DEFAULT' }),
            widgets.renderAgreement({ selector: '#agreement', variantKey: 'AGREEMENT' }),
        ]);
    } catch (err) {
        if (left) return;
        // The hold stays the buyer's to give back while the widget cannot be had.
        put(main, ...facts, h('div', { class: 'row' }, action(t('release'), release, ctx)));
        ctx.showError(err.problem ? err : { code: 'WIDGET_UNAVAILABLE', problem: {} });
        return;
    }
    const back = `${location.origin}/checkout/${encodeURIComponent(orderId)}`;
    const pay = async () => {
        try {
            await widgets.requestPayment({
                orderId, orderName, successUrl: back + '/success', failUrl: back + '/fail',
                customerEmail: auth.user?.email, customerName: auth.user?.name,
            });
        } catch (err) {
            // The widget's own refusals (terms not agreed, …) carry its message.
            throw { code: err.code, problem: { detail: err.message } };
        }
    };
    if (left) return;
    // In place of the loading line: the widget's frames stay where they are (a frame moved in
    // the document loads again, losing what the buyer chose).
    loading.replaceWith(h('div', { class: 'row' },
        action(t('payAmount', { amount: money(order.amount) }), pay, ctx, { class: 'primary', 'data-testid': 'pay' }),
        action(t('release'), release, ctx)));
}

// The payment is authorised at Toss: the shop confirms it (POST /payments/confirm), which
// captures it and issues the tickets.
async function confirmPayment(ctx, orderId, paymentKey, amount) {
    const paid = await api.post('/payments/confirm', { paymentKey, orderId, amount },
        { headers: { 'Idempotency-Key': `${orderId}:${paymentKey}` } });
    sessionStorage.removeItem('ticketon.hold.' + orderId);
    ctx.go('/orders/' + paid.id, { replace: true });
}

// Toss's window sends the buyer back here with paymentKey, orderId and amount.
export async function paymentSuccess(main, ctx, orderId) {
    if (!requireLogin(ctx)) return;
    const params = new URLSearchParams(location.search);
    const paymentKey = params.get('paymentKey');
    const amount = Number(params.get('amount'));
    put(main, h('h1', {}, t('checkout')), h('p', { role: 'status' }, t('confirmingPayment')));
    if (!paymentKey || params.get('orderId') !== orderId || !Number.isInteger(amount) || amount <= 0) {
        put(main, h('h1', {}, t('paymentFailed')));
        ctx.showError({ code: 'PAYMENT_RETURN_INVALID', problem: {} });
        return;
    }
    try {
        await confirmPayment(ctx, orderId, paymentKey, amount);
    } catch (err) {
        // Declined, or the hold ran out meanwhile: say so, and where the order stands.
        put(main, h('h1', {}, t('paymentFailed')),
            h('p', {}, link('/orders/' + encodeURIComponent(orderId), t('seeOrder'))));
        ctx.showError(err);
    }
}

// Toss's window sends the buyer back here when the payment was not made (cancelled, refused).
export async function paymentFail(main, ctx, orderId) {
    if (!requireLogin(ctx)) return;
    const params = new URLSearchParams(location.search);
    const code = params.get('code') || '';
    // Our own words by code; what Toss said, as a detail (it arrives in the address).
    const detail = code && code !== 'PAY_PROCESS_CANCELED' ? `${code}: ${(params.get('message') || '').slice(0, 200)}` : null;
    put(main, h('h1', {}, t('paymentNotMade')),
        h('p', { 'data-testid': 'payment-fail' }, code === 'PAY_PROCESS_CANCELED' ? t('paymentCancelled') : t('paymentRefusedAtToss')),
        detail ? h('p', { class: 'muted' }, detail) : null,
        h('div', { class: 'row' },
            link('/checkout/' + encodeURIComponent(orderId), t('tryAgain')),
            link('/orders/' + encodeURIComponent(orderId), t('seeOrder'))));
}

// ---- Orders and tickets ------------------------------------------------------------------

export async function orders(main, ctx) {
    if (!requireLogin(ctx)) return;
    const list = await api.get('/orders');
    put(main, h('h1', {}, t('myOrders')), list.items.length
        ? h('ul', { class: 'cards' }, list.items.map((o) => h('li', { class: 'card' },
            h('h2', {}, link('/orders/' + o.id, `${t('order')} ${o.id.slice(-6)}`)),
            h('p', {}, h('span', { class: `status s-${o.status}` }, t(o.status)), ` · ${money(o.amount)} · ${o.seats.join(', ')}`),
            h('p', { class: 'muted' }, dateTime(o.createdAt)))))
        : h('p', { class: 'muted' }, t('noOrders')));
}

async function qrImage(ticket) {
    const res = await request('GET', `/tickets/${ticket.id}/qr.svg`, undefined, { raw: true, headers: { Accept: 'image/svg+xml' } });
    const url = URL.createObjectURL(await res.blob());
    return h('img', { src: url, width: 160, height: 160, class: 'qr', alt: t('ticketQr', { seat: ticket.seat || ticket.zone }) });
}

export async function orderPage(main, ctx, id) {
    if (!requireLogin(ctx)) return;
    let order = await api.get('/orders/' + id);
    // A confirmation Toss has not answered yet: the server finds out; poll a little.
    for (let i = 0; i < 10 && order.status === 'CONFIRMING'; i++) {
        await new Promise((r) => setTimeout(r, 1000));
        order = await api.get('/orders/' + id);
    }
    const event = await api.get('/events/' + order.eventId).catch(() => null);
    const tickets = await Promise.all((order.tickets || []).map(async (tk) => h('li', { class: 'ticket card', 'data-testid': 'ticket' },
        h('h3', {}, tk.seat || tk.zone, ' · ', tk.grade),
        h('p', {}, h('span', { class: `status s-${tk.status}` }, t(tk.status)), ` · ${money(tk.price)}`),
        await qrImage(tk).catch(() => null),
        h('p', { class: 'code' }, tk.code))));
    put(main, h('h1', {}, order.status === 'PAID' ? t('paid') : t('order')),
        event ? h('h2', {}, event.title) : null,
        h('dl', { class: 'facts' },
            h('dt', {}, t('order')), h('dd', {}, order.id),
            h('dt', {}, t('seats')), h('dd', {}, order.seats.join(', ')),
            h('dt', {}, t('total')), h('dd', {}, money(order.amount)),
            h('dt', {}, 'Status'), h('dd', {}, h('span', { class: `status s-${order.status}` }, t(order.status)))),
        order.failure ? h('p', { class: 'error' }, order.failure.message) : null,
        tickets.length ? [h('h2', {}, t('tickets')), h('ul', { class: 'tickets' }, tickets)] : null);
}

// ---- Notifications -------------------------------------------------------------------------

export async function notifications(main, ctx) {
    if (!requireLogin(ctx)) return;
    const list = await api.get('/notifications?limit=50');
    ctx.setUnread(list.unreadCount);
    const markAll = action(t('markAllRead'), async () => {
        await api.post('/notifications/read-all');
        ctx.setUnread(0);
        for (const li of main.querySelectorAll('li.unread')) li.classList.remove('unread');
    }, ctx);
    put(main, h('h1', {}, t('notifications')), markAll, list.items.length
        ? h('ul', { class: 'cards' }, list.items.map((n) => {
            const { title, body } = noticeText(n);
            return h('li', { class: 'card' + (n.readAt ? '' : ' unread') },
                h('h2', {}, title), h('p', {}, body),
                n.data?.orderId ? h('p', {}, link('/orders/' + n.data.orderId, t('order'))) : null,
                h('p', { class: 'muted' }, dateTime(n.createdAt)));
        }))
        : h('p', { class: 'muted' }, t('noNotifications')));
}

// ---- Sign-up and login -----------------------------------------------------------------

function authForm(main, ctx, kind) {
    const fields = [];
    const field = (name, type, label, extra = {}) => {
        const input = h('input', { id: 'f-' + name, name, type, required: true, ...extra });
        fields.push(input);
        return h('label', { for: 'f-' + name }, label, input);
    };
    const form = h('form', { class: 'auth', novalidate: false },
        kind === 'signup' ? field('name', 'text', t('name'), { autocomplete: 'name', maxlength: 50 }) : null,
        field('email', 'email', t('email'), { autocomplete: 'email' }),
        field('password', 'password', t('password'), { autocomplete: kind === 'signup' ? 'new-password' : 'current-password', minlength: kind === 'signup' ? 8 : undefined }),
        h('button', { type: 'submit', class: 'primary' }, t(kind)));
    form.addEventListener('submit', async (e) => {
        e.preventDefault();
        ctx.clearError();
        const v = Object.fromEntries(fields.map((f) => [f.name, f.value]));
        try {
            if (kind === 'signup') await auth.signup(v.email, v.password, v.name);
            else await auth.login(v.email, v.password);
            const next = new URLSearchParams(location.search).get('next');
            ctx.go(next && next.startsWith('/') && !next.startsWith('//') ? next : '/', { replace: true });
        } catch (err) {
            ctx.showError(err);
        }
    });
    put(main, h('h1', {}, t(kind)), form, socialButtons(),
        h('p', {}, kind === 'signup' ? t('haveAccount') : t('noAccount'), ' ',
            link((kind === 'signup' ? '/login' : '/signup') + location.search, t(kind === 'signup' ? 'login' : 'signup'))));
}

export const login = (main, ctx) => authForm(main, ctx, 'login');
export const signup = (main, ctx) => authForm(main, ctx, 'signup');
export { errorText };
