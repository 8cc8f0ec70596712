// Pieces the screens share: the guards that send a visitor to log in, a button that runs an
// action and shows its error, and a confirmation dialog.
import { auth } from './api.js';
import { h, put } from './dom.js';
import { t } from './i18n.js';

export function requireLogin(ctx) {
    if (auth.user) return true;
    // The query too: Toss's return to /checkout/{id}/success carries the payment in it.
    ctx.go('/login?next=' + encodeURIComponent(location.pathname + location.search), { replace: true });
    return false;
}

// Logged in with at least `role`, else the login page or a readable refusal.
export function requireRole(ctx, role) {
    if (!requireLogin(ctx)) return false;
    if (auth.atLeast(role)) return true;
    put(document.getElementById('main'), h('h1', {}, t('forbiddenTitle')), h('p', {}, t('forbiddenRole', { role: t('role_' + role) })));
    return false;
}

// A button that is disabled while its action runs and shows the action's error.
export function action(label, fn, ctx, attrs = {}) {
    const button = h('button', { type: 'button', ...attrs }, label);
    button.addEventListener('click', async () => {
        button.disabled = true;
        ctx.clearError();
        try {
            await fn();
        } catch (err) {
            ctx.showError(err);
        } finally {
            if (button.isConnected) button.disabled = false;
        }
    });
    return button;
}

// A modal <dialog> (focus stays inside, Escape cancels) asking `question`; resolves true when
// the person presses `yes`.
export function confirmDialog(question, yes) {
    return new Promise((resolve) => {
        const dialog = h('dialog', { class: 'confirm', 'aria-labelledby': 'confirm-q' },
            h('form', { method: 'dialog' },
                h('p', { id: 'confirm-q' }, question),
                h('div', { class: 'row' },
                    h('button', { value: 'no', autofocus: true }, t('keep')),
                    h('button', { value: 'yes', class: 'danger' }, yes))));
        dialog.addEventListener('close', () => {
            dialog.remove();
            resolve(dialog.returnValue === 'yes');
        });
        document.body.append(dialog);
        dialog.showModal();
    });
}

// A modal form of text fields ({name, label, multiline?, maxlength}) with a cancel and a `send`
// button; resolves the fields' values when sent (the browser checks that each is filled), null
// when cancelled.
export function formDialog(heading, fields, send) {
    return new Promise((resolve) => {
        const inputs = fields.map((f) => h(f.multiline ? 'textarea' : 'input',
            { id: 'd-' + f.name, name: f.name, required: true, maxlength: f.maxlength, rows: f.multiline ? 3 : undefined }));
        const dialog = h('dialog', { class: 'confirm', 'aria-labelledby': 'dialog-h' },
            h('form', { method: 'dialog', class: 'auth' },
                h('h2', { id: 'dialog-h' }, heading),
                fields.map((f, i) => h('label', { for: 'd-' + f.name }, f.label, inputs[i])),
                h('div', { class: 'row' },
                    h('button', { value: 'no', formnovalidate: true }, t('cancel')),
                    h('button', { value: 'yes', class: 'primary' }, send))));
        dialog.addEventListener('close', () => {
            dialog.remove();
            resolve(dialog.returnValue === 'yes' ? Object.fromEntries(inputs.map((i) => [i.name, i.value])) : null);
        });
        document.body.append(dialog);
        dialog.showModal();
    });
}
