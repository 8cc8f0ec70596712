// The manager's screens: their events, a new event, and one event's control room (status moves,
// the live dashboard of the on-sale, orders and refunds, a notice to ticket holders, check-in).
import { api } from './api.js';
import { h, put } from './dom.js';
import { t, money, dateTime, errorText } from './i18n.js';
import { layoutEditor } from './editor.js';
import { lineChart } from './chart.js';
import { action, confirmDialog, requireRole } from './ui.js';

const CATEGORIES = ['CONCERT', 'MUSICAL', 'EXHIBITION', 'SPORTS', 'FAN_MEETING', 'ETC'];
const POLL_MS = 1500;
const link = (href, ...children) => h('a', { href, 'data-link': true }, ...children);
const status = (s) => h('span', { class: `status s-${s}`, 'data-testid': 'event-status' }, t(s));

// ---- The manager's events ----------------------------------------------------------------

export async function managerEvents(main, ctx) {
    if (!requireRole(ctx, 'MANAGER')) return;
    const list = await api.get('/manager/events?size=100');
    const rows = list.items.map((e) => h('tr', {},
        h('td', {}, link(`/manage/events/${e.id}`, e.title)),
        h('td', {}, status(e.status)),
        h('td', {}, dateTime(e.startsAt)),
        h('td', { class: 'num' }, String(e.capacity ?? ''))));
    put(main, h('h1', {}, t('manageEvents')),
        h('p', {}, link('/manage/new', t('newEvent'))),
        rows.length
            ? h('div', { class: 'table-wrap' }, h('table', {},
                h('thead', {}, h('tr', {}, [t('title'), t('status'), t('date'), t('capacity')].map((c) => h('th', { scope: 'col' }, c)))),
                h('tbody', {}, rows)))
            : h('p', { class: 'muted' }, t('noEvents')));
}

// ---- A new event ---------------------------------------------------------------------------

// An <input type="datetime-local"> value in the browser's time zone, `days` from now at 19:00.
function localInput(days) {
    const d = new Date(Date.now() + days * 86400e3);
    d.setHours(19, 0, 0, 0);
    const pad = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

// "2027-01-15T19:00" (local) → "2027-01-15T10:00:00Z".
const utc = (local) => new Date(local).toISOString().replace(/\.\d{3}Z$/, 'Z');

// The body of POST /events from the form's fields and the layout editor.
function eventBody(f, editor) {
    return {
        title: f.title.value.trim(), venue: f.venue.value.trim(), location: f.location.value.trim(),
        category: f.category.value, description: f.description.value,
        startsAt: utc(f.startsAt.value), salesOpenAt: utc(f.salesOpenAt.value),
        salesCloseAt: f.salesCloseAt.value ? utc(f.salesCloseAt.value) : null,
        maxPerUser: Number(f.maxPerUser.value), holdSeconds: Number(f.holdSeconds.value),
        waitingRoom: {
            enabled: f.roomOn.checked, admitPerSecond: Number(f.admitPerSecond.value),
            maxActive: Number(f.maxActive.value), entryTtlSeconds: Number(f.entryTtlSeconds.value),
        },
        ...editor.value(),
    };
}

export async function newEvent(main, ctx) {
    if (!requireRole(ctx, 'MANAGER')) return;
    const f = {};
    const field = (name, label, attrs = {}, tag = 'input') => {
        f[name] = h(tag, { id: 'f-' + name, name, ...attrs });
        return h('label', { for: 'f-' + name }, label, f[name]);
    };
    const editor = layoutEditor();
    const roomFields = h('div', { class: 'fields' },
        field('admitPerSecond', t('admitPerSecond'), { type: 'number', min: 1, value: 50, required: true }),
        field('maxActive', t('maxActive'), { type: 'number', min: 1, value: 500, required: true }),
        field('entryTtlSeconds', t('entryTtl'), { type: 'number', min: 30, value: 600, required: true }));
    const form = h('form', { class: 'event-form' },
        h('fieldset', {}, h('legend', {}, t('aboutEvent')),
            field('title', t('title'), { required: true, maxlength: 200 }),
            h('div', { class: 'fields' },
                field('venue', t('venue'), { required: true, maxlength: 200 }),
                field('location', t('location'), { maxlength: 100 }),
                field('category', t('category'), {}, 'select')),
            field('description', t('description'), { rows: 3, maxlength: 2000 }, 'textarea'),
            h('div', { class: 'fields' },
                field('startsAt', t('startsAt'), { type: 'datetime-local', required: true, value: localInput(30) }),
                field('salesOpenAt', t('salesOpenAt'), { type: 'datetime-local', required: true, value: localInput(7) }),
                field('salesCloseAt', t('salesCloseAt'), { type: 'datetime-local' })),
            h('div', { class: 'fields' },
                field('maxPerUser', t('maxPerUser'), { type: 'number', min: 1, max: 10, value: 4, required: true }),
                field('holdSeconds', t('holdSeconds'), { type: 'number', min: 1, max: 3600, value: 300, required: true }))),
        h('fieldset', {}, h('legend', {}, t('layout')), editor.node),
        h('fieldset', {}, h('legend', {}, t('waitingRoom')),
            h('label', { class: 'check' }, (f.roomOn = h('input', { type: 'checkbox', name: 'roomOn' })), t('waitingRoomOn')),
            roomFields),
        h('button', { type: 'submit', class: 'primary' }, t('createEvent')));
    f.category.append(...CATEGORIES.map((c) => h('option', { value: c }, t(c))));
    const syncRoom = () => { for (const i of roomFields.querySelectorAll('input')) i.disabled = !f.roomOn.checked; };
    f.roomOn.addEventListener('change', syncRoom);
    syncRoom();
    form.addEventListener('submit', async (e) => {
        e.preventDefault();
        ctx.clearError();
        for (const bad of form.querySelectorAll('[aria-invalid]')) bad.removeAttribute('aria-invalid');
        const body = eventBody(f, editor);
        const submit = form.querySelector('button[type=submit]');
        submit.disabled = true;
        try {
            const created = await api.post('/events', body);
            ctx.go(`/manage/events/${created.id}`);
        } catch (err) {
            ctx.showError(err);
            // The field the server names, when it is one of the form's own: marked and focused.
            const bad = f[err.problem?.field];
            if (bad) { bad.setAttribute('aria-invalid', 'true'); bad.focus(); }
        } finally {
            submit.disabled = false;
        }
    });
    put(main, h('h1', {}, t('newEvent')), form);
}

// ---- One event: status, dashboard, orders, notice, check-in -------------------------------

// The moves a manager may make from each status (the server refuses any other with 409).
const MOVES = {
    DRAFT: ['SCHEDULED', 'ON_SALE', 'CANCELLED'],
    SCHEDULED: ['ON_SALE', 'CANCELLED'],
    ON_SALE: ['CLOSED', 'CANCELLED'],
    SOLD_OUT: ['CLOSED', 'CANCELLED'],
    CLOSED: ['CANCELLED'],
    CANCELLED: [],
};
const MOVE_LABEL = { SCHEDULED: 'publish', ON_SALE: 'openNow', CLOSED: 'closeSale', CANCELLED: 'cancelEvent' };

export async function managedEvent(main, ctx, id) {
    if (!requireRole(ctx, 'MANAGER')) return;
    let event = await api.get(`/events/${id}`);
    const heading = h('p', {});
    const moves = h('div', { class: 'row' });
    const paintStatus = () => {
        put(heading, status(event.status), ' ', `${event.venue} · ${dateTime(event.startsAt)}`, ' ',
            event.status !== 'DRAFT' ? link(`/events/${id}`, t('publicPage')) : null);
        put(moves, (MOVES[event.status] || []).map((to) => action(t(MOVE_LABEL[to]), () => move(to), ctx,
            { class: to === 'CANCELLED' ? 'danger' : 'primary' })));
    };
    async function move(to) {
        if (to === 'CANCELLED' && !(await confirmDialog(t('cancelEventConfirm', { title: event.title }), t('cancelEvent')))) return;
        event = await api.patch(`/events/${id}`, { status: to });
        paintStatus();
    }
    paintStatus();

    const board = dashboard();
    // The order list, read by the poll and at once after a refund: an answer older than the one
    // shown (a poll's read that began before the refund) is dropped.
    let asked = 0;
    let shown = 0;
    const readOrders = async () => {
        const n = ++asked;
        const list = await api.get(`/manager/events/${id}/orders`);
        if (n > shown) { shown = n; orders.show(list.items); }
    };
    const orders = ordersPanel(ctx, readOrders);
    put(main, h('p', {}, link('/manage', '← ' + t('manageEvents'))), h('h1', {}, event.title), heading, moves,
        board.node, orders.node, noticeForm(id, ctx), checkinForm(ctx));
    // One poll feeds the dashboard and the order list; a slow answer never stacks a second one.
    // Every poll reads the figures (stats: the inventory's counts and one aggregate of the
    // orders); the order list and the audit read every order of the event, so they are asked
    // every 4th and every 10th poll.
    let stopped = false;
    let timer = null;
    let polls = 0;
    let violations = [];
    const tick = async () => {
        if (stopped) return;
        // A dashboard in a background tab asks nothing.
        if (document.hidden) { timer = setTimeout(tick, POLL_MS); return; }
        try {
            const listing = polls % 4 === 0;
            const auditing = polls % 10 === 0;
            const [stats, room, , audit] = await Promise.all([
                api.get(`/manager/events/${id}/stats`),
                api.get(`/manager/events/${id}/queue`).catch(() => null),
                listing ? readOrders() : null,
                auditing ? api.get(`/manager/events/${id}/audit`) : null,
            ]);
            if (audit) violations = audit.violations || [];
            board.show(stats, room, violations);
            // The server moves the status too (opens at salesOpenAt, sold out): look every 4th poll.
            if (++polls % 4 === 0) {
                const now = await api.get(`/events/${id}`);
                if (now.status !== event.status) { event = now; paintStatus(); }
            }
        } catch (err) {
            if (err.status === 401 || err.status === 403) { stopped = true; ctx.showError(err); return; }
            board.offline(err);
        }
        if (!stopped) timer = setTimeout(tick, POLL_MS);
    };
    ctx.onLeave(() => { stopped = true; clearTimeout(timer); });
    await tick();
}

function dashboard() {
    const stat = (key, label) => {
        const value = h('output', { class: 'stat-value', 'data-testid': 'stat-' + key }, '—');
        return { value, node: h('div', { class: 'stat' }, h('span', { class: 'stat-label' }, label), value) };
    };
    const stats = {
        waiting: stat('waiting', t('inLine')),
        rate: stat('rate', t('admittedPerSecond')),
        active: stat('active', t('activeEntries')),
        sold: stat('sold', t('SOLD')),
        held: stat('held', t('HELD')),
        available: stat('available', t('AVAILABLE')),
        revenue: stat('revenue', t('revenue')),
    };
    const chart = lineChart([
        { key: 'sold', label: t('SOLD'), colour: '#4f46e5' },
        { key: 'held', label: t('HELD'), colour: '#f59e0b' },
    ], { label: t('soldHeldChart') });
    // Not a live region: it changes on every poll, and would be read out every 1.5 s.
    const note = h('p', { class: 'muted' });
    const node = h('section', { 'aria-labelledby': 'dash-h' },
        h('h2', { id: 'dash-h' }, t('dashboard'), ' ', h('span', { class: 'live' }, t('live'))),
        h('div', { class: 'stats' }, Object.values(stats).map((s) => s.node)),
        h('figure', { class: 'chart-box' }, chart.node,
            h('figcaption', { class: 'legend' },
                h('span', { class: 'swatch', style: 'background:#4f46e5' }), t('SOLD'), ' ',
                h('span', { class: 'swatch held' }), t('HELD'))),
        note);
    let last = null;
    return {
        node,
        show(figures, room, violations) {
            const now = Date.now();
            const count = (n) => (n === null || n === undefined ? '—' : String(n));
            stats.sold.value.textContent = count(figures.sold);
            stats.held.value.textContent = count(figures.held);
            stats.available.value.textContent = `${count(figures.available)} / ${count(figures.capacity)}`;
            stats.revenue.value.textContent = money(figures.revenue ?? 0);
            if (room && room.enabled) {
                stats.waiting.value.textContent = String(room.waiting + (room.preQueue || 0));
                stats.active.value.textContent = `${room.active} / ${room.maxActive}`;
                if (last) {
                    const rate = (room.admittedTotal - last.admitted) / ((now - last.at) / 1000);
                    stats.rate.value.textContent = Math.max(0, rate).toFixed(1);
                }
                last = { at: now, admitted: room.admittedTotal };
            } else {
                for (const k of ['waiting', 'rate', 'active']) stats[k].value.textContent = '—';
                stats.waiting.value.title = t('noWaitingRoom');
            }
            if (figures.sold !== null) chart.push({ sold: figures.sold, held: figures.held });
            const broken = [...violations, ...(room?.violations || [])];
            note.textContent = broken.length ? t('violations', { list: broken.join('; ') }) : t('updatedAt', { t: new Date(now).toLocaleTimeString() });
            note.classList.toggle('error', broken.length > 0);
        },
        offline(err) { note.textContent = errorText(err); note.classList.add('error'); },
    };
}

function ordersPanel(ctx, reload) {
    const body = h('tbody', {});
    const empty = h('p', { class: 'muted' }, t('noOrders'));
    const table = h('div', { class: 'table-wrap', hidden: true }, h('table', { 'aria-label': t('eventOrders') },
        h('thead', {}, h('tr', {}, [t('order'), t('status'), t('seats'), t('total'), t('date'), ''].map((c) => h('th', { scope: 'col' }, c)))),
        body));
    let shown = '';
    const refund = (o) => action(t('refund'), async () => {
        if (!(await confirmDialog(t('refundConfirm', { id: o.id.slice(-6), amount: money(o.amount) }), t('refund')))) return;
        await api.post(`/orders/${o.id}/cancel`, { reason: t('refundReason') });
        await reload();
    }, ctx, { class: 'danger small' });
    return {
        node: h('section', {}, h('h2', {}, t('eventOrders')), empty, table),
        show(items) {
            const key = items.map((o) => o.id + o.status).join();
            if (key === shown) return;
            shown = key;
            empty.hidden = items.length > 0;
            table.hidden = items.length === 0;
            put(body, items.map((o) => h('tr', { 'data-order': o.id },
                h('td', { class: 'mono' }, o.id.slice(-6)),
                h('td', {}, h('span', { class: `status s-${o.status}` }, t(o.status))),
                h('td', {}, (o.seats || []).join(', ') || (o.zone ? `${o.zone} × ${o.quantity}` : '')),
                h('td', { class: 'num' }, money(o.amount)),
                h('td', {}, dateTime(o.createdAt)),
                h('td', {}, o.status === 'PAID' ? refund(o) : null))));
        },
    };
}

function noticeForm(eventId, ctx) {
    const title = h('input', { id: 'n-title', required: true, maxlength: 200 });
    const body = h('textarea', { id: 'n-body', required: true, maxlength: 1000, rows: 3 });
    const result = h('p', { role: 'status' });
    const form = h('form', { class: 'auth' },
        h('label', { for: 'n-title' }, t('noticeTitle'), title),
        h('label', { for: 'n-body' }, t('noticeBody'), body),
        h('button', { type: 'submit' }, t('sendNotice')), result);
    form.addEventListener('submit', async (e) => {
        e.preventDefault();
        ctx.clearError();
        result.textContent = '';
        try {
            const sent = await api.post('/notifications', { eventId: Number(eventId), title: title.value, body: body.value });
            result.textContent = t('noticeSent', { n: sent.recipients });
            form.reset();
        } catch (err) {
            ctx.showError(err);
        }
    });
    return h('section', {}, h('h2', {}, t('noticeToHolders')), form);
}

function checkinForm(ctx) {
    const code = h('input', { id: 'c-code', required: true, autocomplete: 'off', spellcheck: 'false' });
    const result = h('p', { role: 'status', 'data-testid': 'checkin-result' });
    const form = h('form', { class: 'row' }, h('label', { for: 'c-code' }, t('ticketCode'), code), h('button', { type: 'submit', class: 'primary' }, t('checkIn')));
    form.addEventListener('submit', async (e) => {
        e.preventDefault();
        ctx.clearError();
        result.className = '';
        try {
            const done = await api.post('/checkin', { code: code.value.trim() });
            const tk = done.ticket || {};
            result.textContent = t('checkedIn', { seat: tk.seat || tk.zone || '', grade: tk.grade || '' });
            result.className = 'ok';
            code.value = '';
        } catch (err) {
            if (err.code === 'ALREADY_USED') {
                result.textContent = t('alreadyUsed', { t: err.problem.usedAt ? dateTime(err.problem.usedAt) : '' });
                result.className = 'error';
            } else {
                ctx.showError(err);
            }
        }
        code.focus();
    });
    return h('section', {}, h('h2', {}, t('checkIn')), form, result);
}
