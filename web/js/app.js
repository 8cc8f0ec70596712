// The single-page UI: a router over history.pushState, one render function per screen, the
// header (language, session, notification bell). Screens are in views.js.
import { auth, stream } from './api.js';
import { h, put } from './dom.js';
import { t, lang, setLang, errorText } from './i18n.js';
import * as views from './views.js';
import * as manage from './manage.js';
import * as admin from './admin.js';
import { signedIn, takeFragment } from './social.js';

const routes = [
    [/^\/$/, views.eventList],
    [/^\/login$/, views.login],
    [/^\/signup$/, views.signup],
    [/^\/events\/(\d+)$/, views.eventPage],
    [/^\/events\/(\d+)\/queue$/, views.waitingRoom],
    [/^\/checkout\/([\w-]+)$/, views.checkout],
    [/^\/checkout\/([\w-]+)\/success$/, views.paymentSuccess],
    [/^\/checkout\/([\w-]+)\/fail$/, views.paymentFail],
    [/^\/orders$/, views.orders],
    [/^\/orders\/([\w-]+)$/, views.orderPage],
    [/^\/notifications$/, views.notifications],
    [/^\/signed-in$/, signedIn],
    [/^\/manage$/, manage.managerEvents],
    [/^\/manage\/new$/, manage.newEvent],
    [/^\/manage\/events\/(\d+)$/, manage.managedEvent],
    [/^\/admin\/users$/, admin.users],
];

let cleanup = [];
const main = document.getElementById('main');
const alertBox = document.getElementById('alert');

// Screens register what to stop (streams, timers) when the user leaves them.
export const ctx = {
    onLeave(fn) { cleanup.push(fn); },
    go(path, { replace = false } = {}) {
        if (replace) history.replaceState(null, '', path);
        else history.pushState(null, '', path);
        render();
    },
    showError(err) {
        alertBox.textContent = errorText(err);
        alertBox.hidden = false;
        alertBox.focus();
    },
    clearError() { alertBox.hidden = true; alertBox.textContent = ''; },
    unread: 0,
    setUnread(n) { ctx.unread = Math.max(0, n); paintBell(); },
};

async function render() {
    for (const fn of cleanup.splice(0)) fn();
    ctx.clearError();
    renderHeader();
    const path = location.pathname;
    for (const [pattern, view] of routes) {
        const m = path.match(pattern);
        if (!m) continue;
        put(main, h('p', { class: 'muted' }, t('loading')));
        try {
            await view(main, ctx, ...m.slice(1));
        } catch (err) {
            put(main, );
            ctx.showError(err);
        }
        main.focus({ preventScroll: true });
        return;
    }
    put(main, h('h1', {}, t('notFound')));
}

function paintBell() {
    const badge = document.querySelector('#bell .badge');
    if (!badge) return;
    badge.textContent = ctx.unread > 99 ? '99+' : String(ctx.unread);
    badge.hidden = ctx.unread === 0;
    document.getElementById('bell').setAttribute('aria-label', `${t('notifications')} (${t('unread', { n: ctx.unread })})`);
}

function bellIcon() {
    const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('width', '22');
    svg.setAttribute('height', '22');
    svg.setAttribute('aria-hidden', 'true');
    svg.innerHTML = '<path fill="currentColor" d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22zm7-6V11a7 7 0 0 0-5.5-6.84V3a1.5 1.5 0 0 0-3 0v1.16A7 7 0 0 0 5 11v5l-2 2v1h18v-1z"/>';
    return svg;
}

function renderHeader() {
    const nav = document.getElementById('nav');
    const user = auth.user;
    const link = (href, text, extra = {}) => h('a', { href, 'data-link': true, ...extra }, text);
    put(nav, 
        link('/', t('events')),
        user && link('/orders', t('myOrders')),
        auth.atLeast('MANAGER') && link('/manage', t('manage')),
        auth.atLeast('ADMIN') && link('/admin/users', t('users')),
        user && link('/notifications', bellIcon(), { id: 'bell', class: 'bell' }),
        user && h('span', { class: 'who', 'data-testid': 'who', title: user.email }, user.name),
        user ? h('button', { type: 'button', class: 'link', onclick: async () => { await auth.logout(); ctx.go('/'); } }, t('logout'))
            : link('/login', t('login')),
        !user && link('/signup', t('signup')),
        h('button', { type: 'button', class: 'lang', 'aria-label': t('languageLabel'), onclick: () => { setLang(lang === 'ko' ? 'en' : 'ko'); render(); } }, t('language')),
    );
    const bell = document.getElementById('bell');
    if (bell) {
        bell.append(h('span', { class: 'badge', 'data-testid': 'unread' }, '0'));
        paintBell();
    }
    document.querySelector('.brand').textContent = t('appName');
}

// The notification stream lives as long as the session, across screens.
let bellFeed = null;
function watchNotifications() {
    bellFeed?.close();
    bellFeed = null;
    ctx.setUnread(0);
    if (!auth.user) return;
    bellFeed = stream('/notifications/stream', {
        ready: (d) => ctx.setUnread(d.unreadCount),
        reset: (d) => ctx.setUnread(d.unreadCount),
        notification: (n) => {
            ctx.setUnread(ctx.unread + 1);
            views.toast(n);
        },
    }, { authed: true });
}

auth.onChange((session, reason) => {
    watchNotifications();
    renderHeader();
    // Refused by the server (disabled, logged out elsewhere): say so on whatever screen is open.
    if (reason === 'ended') ctx.showError({ code: 'SESSION_ENDED', problem: {} });
});

document.addEventListener('click', (e) => {
    const a = e.target.closest('a[data-link]');
    if (!a || e.ctrlKey || e.metaKey || e.shiftKey || a.target) return;
    e.preventDefault();
    ctx.go(a.getAttribute('href'));
});
window.addEventListener('popstate', render);
setLang(lang);
// The social login's return trip lands here with the tokens in the fragment.
let startError = null;
takeFragment().then((next) => {
    if (next) history.replaceState(null, '', next);
}).catch((err) => {
    startError = err;
    history.replaceState(null, '', '/login');
}).finally(async () => {
    watchNotifications();
    await render();
    if (startError) ctx.showError(startError);
});
