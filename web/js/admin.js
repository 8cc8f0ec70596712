// The administrator's screen: users, searched by email or name, with their role, and the
// switches to disable / enable and lock / unlock an account (docs/api.md "Administration").
import { api, auth } from './api.js';
import { h, put } from './dom.js';
import { t, dateTime } from './i18n.js';
import { action, confirmDialog, formDialog, requireRole } from './ui.js';

const ROLES = ['USER', 'MANAGER', 'ADMIN'];
const SIZE = 20;

export async function users(main, ctx) {
    if (!requireRole(ctx, 'ADMIN')) return;
    const params = new URLSearchParams(location.search);
    const page = Math.max(0, Number(params.get('page')) || 0);
    const q = h('input', { type: 'search', name: 'q', value: params.get('q') || '', placeholder: t('userSearchPlaceholder'), 'aria-label': t('searchUsers') });
    const form = h('form', { class: 'search', role: 'search' }, q, h('button', { type: 'submit' }, t('search')));
    form.addEventListener('submit', (e) => {
        e.preventDefault();
        ctx.go('/admin/users' + (q.value ? '?q=' + encodeURIComponent(q.value) : ''));
    });
    const query = new URLSearchParams({ page: String(page), size: String(SIZE) });
    if (params.get('q')) query.set('q', params.get('q'));
    const list = await api.get('/admin/users?' + query);
    const body = h('tbody', {}, list.items.map((u) => userRow(u, ctx)));
    const goPage = (n) => { const next = new URLSearchParams(params); next.set('page', String(n)); ctx.go('/admin/users?' + next); };
    put(main, h('h1', {}, t('users')), form, h('p', { id: 'admin-status', role: 'status' }),
        list.items.length
            ? h('div', { class: 'table-wrap' }, h('table', { 'aria-label': t('users') },
                h('thead', {}, h('tr', {}, [t('email'), t('name'), t('role'), t('status'), t('joined'), ''].map((c) => h('th', { scope: 'col' }, c)))),
                body))
            : h('p', { class: 'muted' }, t('noUsers')),
        h('div', { class: 'row' },
            page > 0 ? h('button', { type: 'button', onclick: () => goPage(page - 1) }, t('previous')) : null,
            h('span', { class: 'muted' }, t('pageOf', { page: page + 1, pages: Math.max(1, Math.ceil(list.total / SIZE)), total: list.total })),
            (page + 1) * SIZE < list.total ? h('button', { type: 'button', onclick: () => goPage(page + 1) }, t('next')) : null));
}

// A notice to one person (POST /notifications {userId}): their bell rings, wherever they are.
async function notify(user, ctx) {
    const notice = await formDialog(t('noticeTo', { email: user.email }), [
        { name: 'title', label: t('noticeTitle'), maxlength: 200 },
        { name: 'body', label: t('noticeBody'), maxlength: 1000, multiline: true },
    ], t('sendNotice'));
    if (!notice) return;
    await api.post('/notifications', { userId: user.id, ...notice });
    const status = document.getElementById('admin-status');
    if (status) status.textContent = t('noticeSentTo', { email: user.email });
}

// `slot`: the user's row as shown now and their changes in flight, shared by the rows that replace
// one another. Changes go one at a time, each answer drawn over the row shown then: a disable
// clicked while a role change was on its way was answered onto a row already replaced (so the
// page kept showing the user active), or could be overtaken by the older answer.
function userRow(user, ctx, slot = { row: null, changes: Promise.resolve() }) {
    const row = h('tr', { 'data-user': user.email });
    slot.row = row;
    const self = String(user.id) === String(auth.user?.id);
    const patch = (change) => {
        const done = slot.changes.then(async () => {
            const next = await api.patch(`/admin/users/${user.id}`, change);
            const shown = slot.row;
            shown.replaceWith(userRow(next, ctx, slot));
        });
        slot.changes = done.catch(() => {});
        return done;
    };
    const role = h('select', { 'aria-label': t('roleOf', { email: user.email }), disabled: self || user.status === 'DELETED' },
        ROLES.map((r) => h('option', { value: r, selected: r === user.role }, t('role_' + r))));
    role.addEventListener('change', async () => {
        ctx.clearError();
        try { await patch({ role: role.value }); } catch (err) { role.value = user.role; ctx.showError(err); }
    });
    const disabled = user.status === 'DISABLED';
    const buttons = user.status === 'DELETED' || self ? [] : [
        disabled
            ? action(t('enable'), () => patch({ disabled: false }), ctx, { class: 'small' })
            : action(t('disable'), async () => {
                if (await confirmDialog(t('disableConfirm', { email: user.email }), t('disable'))) await patch({ disabled: true });
            }, ctx, { class: 'danger small' }),
        user.locked
            ? action(t('unlock'), () => patch({ locked: false }), ctx, { class: 'small' })
            : action(t('lock'), () => patch({ locked: true }), ctx, { class: 'small' }),
        action(t('sendNotice'), () => notify(user, ctx), ctx, { class: 'small' }),
    ];
    put(row,
        h('td', {}, user.email),
        h('td', {}, user.name),
        h('td', {}, role),
        h('td', {}, h('span', { class: `status s-${user.status}`, 'data-testid': 'user-status' }, t('user_' + user.status)),
            user.locked ? [' ', h('span', { class: 'status s-LOCKED' }, t('locked'))] : null),
        h('td', {}, user.createdAt ? dateTime(user.createdAt) : ''),
        h('td', {}, h('div', { class: 'row' }, buttons)));
    return row;
}
