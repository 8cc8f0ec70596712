// Social login (docs/api.md "GET /auth/oauth2/{provider}"): a button per configured provider on
// the login and sign-up pages, and the return trip, where the server's redirect carries the
// tokens in the URL fragment (#accessToken=…&refreshToken=…), which never reaches a server log.
import { api, auth } from './api.js';
import { h, put } from './dom.js';
import { t } from './i18n.js';

const NEXT_KEY = 'ticketon.oauth.next';

// The configured providers (GET /auth/oauth2); none when the list cannot be read.
async function providers() {
    try {
        const body = await api.get('/auth/oauth2', { anonymous: true });
        return body.providers.map((p) => p.name);
    } catch {
        return [];
    }
}

// Kakao, Naver and Google have their own words and colours; any other provider its name.
function providerLabel(name) {
    const known = t('provider_' + name);
    return known === 'provider_' + name ? name.charAt(0).toUpperCase() + name.slice(1) : known;
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
                href: `/api/v1/auth/oauth2/${encodeURIComponent(n)}`,
                onclick: () => sessionStorage.setItem(NEXT_KEY, next && next.startsWith('/') && !next.startsWith('//') ? next : '/'),
            }, t('continueWith', { provider: providerLabel(n) }))));
        box.hidden = false;
    });
    return box;
}

// Called once at start-up: when the page was opened by the sign-in's redirect, takes the tokens
// out of the address (so they are neither bookmarked nor shared), stores the session and
// returns where to go next; throws the server's problem when the sign-in failed (#error=…);
// otherwise null.
export async function takeFragment() {
    const f = new URLSearchParams(location.hash.slice(1));
    if (f.has('error')) {
        // The sign-in failed at the server: its problem, told as any API error is.
        history.replaceState(null, '', location.pathname + location.search);
        sessionStorage.removeItem(NEXT_KEY);
        const err = new Error(f.get('detail') || f.get('error'));
        err.code = f.get('error');
        err.problem = { code: err.code, status: Number(f.get('status')) || 0, detail: f.get('detail') || '' };
        throw err;
    }
    if (!f.has('accessToken')) return null;
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
