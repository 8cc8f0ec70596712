// Social login (docs/api.md "GET /auth/oauth2/{provider}"): a button per configured provider on
// the login and sign-up pages, and the return trip, where the server's redirect carries the
// tokens in the URL fragment (#accessToken=…&refreshToken=…), which never reaches a server log.
import { auth } from './api.js';
import { h, put } from './dom.js';
import { t } from './i18n.js';

// The providers the server knows by name (src/auth/oauth_provider.cpp). The API has no route
// that lists the configured ones, so each is asked whether it starts a sign-in: a configured
// provider answers the start with a redirect, any other with 404. The redirect is not followed.
const KNOWN = ['kakao', 'naver', 'google'];
const NEXT_KEY = 'ticketon.oauth.next';
const CACHE_KEY = 'ticketon.oauth.providers';

async function configured(name) {
    try {
        const res = await fetch(`/api/v1/auth/oauth2/${name}`, { redirect: 'manual', credentials: 'same-origin' });
        return res.type === 'opaqueredirect' || (res.status >= 300 && res.status < 400);
    } catch {
        return false;
    }
}

async function providers() {
    const cached = sessionStorage.getItem(CACHE_KEY);
    if (cached) return JSON.parse(cached);
    const found = (await Promise.all(KNOWN.map(async (n) => ((await configured(n)) ? n : null)))).filter(Boolean);
    sessionStorage.setItem(CACHE_KEY, JSON.stringify(found));
    return found;
}

// The buttons, filled in once the providers are known; nothing at all when there are none.
export function socialButtons() {
    const box = h('div', { class: 'social', hidden: true });
    providers().then((names) => {
        if (!names.length) return;
        const next = new URLSearchParams(location.search).get('next');
        put(box, h('p', { class: 'muted' }, t('orContinueWith')),
            names.map((n) => h('a', {
                class: `social-button p-${n}`,
                href: `/api/v1/auth/oauth2/${n}`,
                onclick: () => sessionStorage.setItem(NEXT_KEY, next && next.startsWith('/') && !next.startsWith('//') ? next : '/'),
            }, t('continueWith', { provider: t('provider_' + n) }))));
        box.hidden = false;
    });
    return box;
}

// Called once at start-up: when the page was opened by the sign-in's redirect, takes the tokens
// out of the address (so they are neither bookmarked nor shared), stores the session and
// returns where to go next; otherwise null.
export async function takeFragment() {
    if (!location.hash.includes('accessToken=')) return null;
    const f = new URLSearchParams(location.hash.slice(1));
    history.replaceState(null, '', location.pathname + location.search);
    await auth.adopt({
        accessToken: f.get('accessToken'),
        refreshToken: f.get('refreshToken'),
        expiresIn: Number(f.get('expiresIn')) || null,
    });
    const next = sessionStorage.getItem(NEXT_KEY) || '/';
    sessionStorage.removeItem(NEXT_KEY);
    return next;
}

// /signed-in: a page to point auth.oauth2_redirect at. The fragment is read at start-up (on any
// page); this one says what happened when someone lands here without it.
export async function signedIn(main, ctx) {
    if (auth.user) return ctx.go('/', { replace: true });
    put(main, h('h1', {}, t('login')), h('p', {}, t('signInIncomplete')), h('p', {}, h('a', { href: '/login', 'data-link': true }, t('login'))));
}
