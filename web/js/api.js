// The API client: JSON over fetch, the session's tokens, one refresh on a 401, and errors as
// `ApiError` carrying the problem+json answer (docs/api.md "Errors").
const API = '/api/v1';
const KEY = 'ticketon.session';

export class ApiError extends Error {
    constructor(status, problem) {
        super(problem.detail || problem.title || `HTTP ${status}`);
        this.status = status;
        this.problem = problem;
        this.code = problem.code || 'HTTP_' + status;
    }
}

let session = load();
const listeners = new Set();

function load() {
    try {
        return JSON.parse(localStorage.getItem(KEY)) || null;
    } catch {
        return null;
    }
}

// `reason` is 'ended' when the server refused the session (not when the person logged out).
function store(next, reason = null) {
    session = next;
    if (next) localStorage.setItem(KEY, JSON.stringify(next));
    else localStorage.removeItem(KEY);
    for (const fn of listeners) fn(session, reason);
}

export const auth = {
    get user() { return session?.user ?? null; },
    get accessToken() { return session?.accessToken ?? null; },
    onChange(fn) { listeners.add(fn); },
    async signup(email, password, name) {
        store(await request('POST', '/auth/signup', { email, password, name }, { anonymous: true }));
    },
    async login(email, password) {
        store(await request('POST', '/auth/login', { email, password }, { anonymous: true }));
    },
    // Tokens handed over by the social login's return trip (the URL fragment): stored, then the
    // account read with them.
    async adopt(tokens) {
        store({ ...tokens, user: null });
        try {
            store({ ...session, user: await request('GET', '/me') });
        } catch (err) {
            store(null);
            throw err;
        }
    },
    // Roles rank USER < MANAGER < ADMIN; a screen open to a role is open to those above it.
    atLeast(role) {
        const rank = { USER: 0, MANAGER: 1, ADMIN: 2 };
        return (rank[session?.user?.role] ?? -1) >= rank[role];
    },
    async logout() {
        const refreshToken = session?.refreshToken;
        store(null);
        if (refreshToken) {
            await request('POST', '/auth/logout', { refreshToken }, { anonymous: true }).catch(() => {});
        }
    },
};

// Several requests failing with 401 at once share one refresh: refresh tokens are single use.
let refreshing = null;
export function refresh() {
    if (!session?.refreshToken) return Promise.resolve(false);
    refreshing ??= request('POST', '/auth/refresh', { refreshToken: session.refreshToken }, { anonymous: true })
        .then((pair) => { store({ ...session, ...pair, user: pair.user ?? session.user }); return true; })
        // Only a refusal ends the session: a busy server or a lost connection leaves it for later.
        .catch((err) => { if (err.status === 401) store(null, 'ended'); return false; })
        .finally(() => { refreshing = null; });
    return refreshing;
}

async function parseProblem(res) {
    const text = await res.text();
    try {
        const body = JSON.parse(text);
        if (body && typeof body === 'object') return body;
    } catch { /* not JSON: a proxy's page, say */ }
    return { status: res.status, title: res.statusText };
}

// `path` is under /api/v1 unless it starts with "/sandbox". Options: headers, anonymous, raw
// (return the Response), retried (internal).
export async function request(method, path, body, options = {}) {
    const url = path.startsWith('/sandbox') ? path : API + path;
    const headers = { Accept: 'application/json', ...(options.headers || {}) };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (!options.anonymous && session?.accessToken) headers.Authorization = 'Bearer ' + session.accessToken;
    let res;
    try {
        res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch {
        throw new ApiError(0, { code: 'NETWORK', title: 'Network error' });
    }
    if (res.status === 401 && headers.Authorization && !options.retried) {
        if (session?.refreshToken && await refresh()) return request(method, path, body, { ...options, retried: true });
        // When the refresh was refused too, the session is over (logged out elsewhere, or the
        // account disabled), and the person is told so rather than that they typed something wrong.
        const refused = new ApiError(401, await parseProblem(res));
        if (!session) refused.code = 'SESSION_ENDED';
        throw refused;
    }
    if (!res.ok) throw new ApiError(res.status, await parseProblem(res));
    if (options.raw) return res;
    if (res.status === 204) return null;
    const type = res.headers.get('Content-Type') || '';
    return type.includes('json') ? res.json() : res.text();
}

export const api = {
    get: (path, options) => request('GET', path, undefined, options),
    post: (path, body, options) => request('POST', path, body ?? {}, options),
    patch: (path, body, options) => request('PATCH', path, body ?? {}, options),
    del: (path, options) => request('DELETE', path, undefined, options),
};

// An EventSource on a stream route with the access token in the URL (EventSource cannot set
// headers). When the server refuses it for good (401 after the token expired) the source is
// closed by the browser; reopen it after one refresh. Returns a handle with close().
export function stream(path, handlers, { authed = false } = {}) {
    let source = null;
    let closed = false;
    let failures = 0;
    const open = () => {
        if (closed) return;
        let url = API + (typeof path === "function" ? path() : path);
        if (authed) url += (url.includes('?') ? '&' : '?') + 'access_token=' + encodeURIComponent(session?.accessToken ?? '');
        source = new EventSource(url);
        for (const [name, fn] of Object.entries(handlers)) {
            source.addEventListener(name, (e) => { failures = 0; fn(JSON.parse(e.data), e); });
        }
        source.onerror = async () => {
            if (closed || source.readyState !== EventSource.CLOSED) return;
            failures += 1;
            if (failures > 5) return;
            if (authed) await refresh();
            setTimeout(open, 1000 * failures);
        };
    };
    open();
    return { close() { closed = true; source?.close(); } };
}
