// The manager's, the administrator's and the social sign-in's screens in Debian's chromium
// (test_ui.py starts the server and passes BASE_URL, CHROMIUM, SCREENSHOTS, the accounts'
// <NAME>_EMAIL / <NAME>_PASSWORD, SECOND_TOKEN and SOCIAL_EMAIL). Every check reads what a
// person would see on the page.
import assert from 'node:assert/strict';
import { runInChromium, shot, step, waitForText } from './lib.mjs';

const base = process.env.BASE_URL;
const account = (name) => ({ email: process.env[`${name}_EMAIL`], password: process.env[`${name}_PASSWORD`] });

const EN = { email: 'Email', password: 'Password', login: 'Log in', logout: 'Log out' };
const KO = { email: '이메일', password: '비밀번호', login: '로그인', logout: '로그아웃' };

async function tryLogIn(page, who, words = EN) {
    await page.goto('/login');
    await page.getByLabel(words.email).fill(who.email);
    await page.getByLabel(words.password).fill(who.password);
    await page.getByRole('button', { name: words.login }).click();
}

async function signIn(page, who, words = EN) {
    await tryLogIn(page, who, words);
    await page.getByRole('button', { name: words.logout }).waitFor();
}

// Another buyer, through the API: joins the line, waits for the turn, holds and pays `seat`.
async function apiBuy(eventId, token, seat) {
    const call = async (method, path, body, headers = {}) => {
        const res = await fetch(base + path, { method, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', ...headers }, body: body && JSON.stringify(body) });
        const json = await res.json();
        assert.ok(res.ok, `${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
        return json;
    };
    let q = await call('POST', `/api/v1/events/${eventId}/queue`);
    for (let i = 0; i < 60 && q.status !== 'ADMITTED'; i++) {
        await new Promise((r) => setTimeout(r, 500));
        q = await call('GET', `/api/v1/events/${eventId}/queue`);
    }
    const held = await call('POST', `/api/v1/events/${eventId}/holds`, { seats: [seat] }, { 'Queue-Token': q.entryToken });
    const pay = await call('POST', '/sandbox/toss/payments', { orderId: held.orderId, amount: held.amount });
    return call('POST', '/api/v1/payments/confirm', { paymentKey: pay.paymentKey, orderId: held.orderId, amount: held.amount });
}

const noJson = (text) => assert.ok(!/[{}]/.test(text), `a raw JSON answer on the page: ${text}`);

await runInChromium(async (browser) => {
    const errors = [];
    const context = async (options = {}) => {
        const c = await browser.newContext({ baseURL: base, locale: 'en-US', viewport: { width: 1100, height: 900 }, ...options });
        const page = await c.newPage();
        page.on('pageerror', (e) => errors.push(String(e)));
        return page;
    };

    step('a buyer is signed in (the user who is disabled later too)');
    const victim = await context();
    await signIn(victim, account('VICTIM'));

    step('the manager signs in and finds the manager pages in the header');
    const m = await context();
    await signIn(m, account('MANAGER'));
    assert.equal(await m.getByRole('link', { name: 'Users' }).count(), 0, 'a manager sees no admin link');
    await m.getByRole('link', { name: 'Manage' }).click();
    await m.getByRole('heading', { name: 'My events (manager)' }).waitFor();
    await m.getByRole('link', { name: 'New event' }).click();

    step('the new-event form: details, a reserved layout of two sections, the waiting room on');
    await m.getByRole('heading', { name: 'New event' }).waitFor();
    await m.getByLabel('Title', { exact: true }).fill('Night Market Live');
    await m.getByLabel('Venue', { exact: true }).fill('Ticketon Hall');
    await m.getByLabel('City', { exact: true }).fill('Seoul');
    await m.getByLabel('Category').selectOption('CONCERT');
    const grade1 = m.getByRole('group', { name: 'Grade 1' });
    await grade1.getByLabel('Name').fill('VIP');
    await grade1.getByLabel('Price (₩)').fill('120000');
    await m.getByRole('group', { name: 'Grade 2' }).getByLabel('Price (₩)').fill('80000');
    const s1 = m.getByRole('group', { name: 'Section 1' });
    await s1.getByLabel('Name').fill('A');
    // Section A is R, but both its rows sell as VIP (a row's own grade): the buyer below pays
    // the VIP price for A-1-1 and A-1-2.
    await s1.getByLabel(/^Grade/).selectOption('R');
    await s1.getByLabel(/^Rows/).fill('2');
    await s1.getByLabel('Seats per row').fill('6');
    await s1.getByLabel('First rows in another grade').fill('2');
    await s1.getByLabel('Their grade').selectOption('VIP');
    await m.getByRole('button', { name: 'Add Section' }).click();
    const s2 = m.getByRole('group', { name: 'Section 2' });
    await s2.getByLabel('Name').fill('B');
    await s2.getByLabel(/^Grade/).selectOption('R');
    await s2.getByLabel(/^Rows/).fill('1');
    await s2.getByLabel('Seats per row').fill('8');
    await waitForText(m.getByTestId('capacity'), (t) => t === '20 seats in all · ₩80,000 – ₩120,000');
    // The preview draws one square per seat: 2 rows of 6 and a row of 8.
    assert.equal(await m.getByRole('img', { name: 'Preview of the seat layout' }).locator('rect').count(), 20);
    await m.getByLabel('Use a waiting room').check();
    await m.getByLabel('Admitted per second').fill('2');
    await m.getByLabel('Most buyers inside at once').fill('50');
    await shot(m, 'manager-new-event');

    step('a broken form is refused with a readable message that names the field');
    await m.getByLabel('Sales open at').fill('2099-01-01T10:00');
    await m.getByRole('button', { name: 'Create event' }).click();
    const alert = m.getByRole('alert');
    const refusal = await waitForText(alert, (t) => t.length > 0);
    noJson(refusal);
    assert.match(refusal, /^Please check the form: salesOpenAt/);
    // The field named is marked, and the cursor is in it.
    assert.equal(await m.getByLabel('Sales open at').getAttribute('aria-invalid'), 'true');
    assert.equal(await m.evaluate(() => document.activeElement.id), 'f-salesOpenAt');
    const open = new Date(Date.now() + 3 * 86400e3);
    await m.getByLabel('Sales open at').fill(`${open.getFullYear()}-${String(open.getMonth() + 1).padStart(2, '0')}-${String(open.getDate()).padStart(2, '0')}T10:00`);

    step('create: the event is a draft; publish, then open it');
    await m.getByRole('button', { name: 'Create event' }).click();
    await m.waitForURL(/\/manage\/events\/\d+$/);
    const eventId = m.url().match(/(\d+)$/)[1];
    await m.getByRole('heading', { name: 'Night Market Live' }).waitFor();
    const status = m.getByTestId('event-status');
    await waitForText(status, (t) => t === 'Draft');
    await m.getByRole('button', { name: 'Publish' }).click();
    await waitForText(status, (t) => t === 'Coming soon');
    await m.getByRole('button', { name: 'Open sales now' }).click();
    await waitForText(status, (t) => t === 'On sale');
    await waitForText(m.getByTestId('stat-available'), (t) => t === '20 / 20');
    await waitForText(m.getByTestId('stat-sold'), (t) => t === '0');
    await waitForText(m.getByTestId('stat-waiting'), (t) => t === '0');

    step('the public page of the event leads its manager back to the control room');
    await m.getByRole('link', { name: 'Public page' }).click();
    await m.getByRole('link', { name: 'Manage this event' }).click();
    await m.getByRole('heading', { name: 'Dashboard' }).waitFor();

    step('a crowd joins the line: the dashboard counts it and the rate it is let in at');
    for (const token of JSON.parse(process.env.CROWD_TOKENS)) {
        const res = await fetch(`${base}/api/v1/events/${eventId}/queue`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
        assert.equal(res.status, 200);
    }
    await waitForText(m.getByTestId('stat-waiting'), (t) => Number(t) > 0);
    await waitForText(m.getByTestId('stat-rate'), (t) => Number(t) > 0);
    await waitForText(m.getByTestId('stat-active'), (t) => /^[1-9]\d* \/ 50$/.test(t));

    step('a buyer (second browser) joins the line, is let in and holds two seats');
    const buyer = await context();
    await signIn(buyer, account('BUYER'));
    await buyer.goto(`/events/${eventId}`);
    await buyer.getByRole('button', { name: 'Join the waiting room' }).waitFor();
    assert.equal(await buyer.getByRole('link', { name: 'Manage this event' }).count(), 0);
    await buyer.getByRole('button', { name: 'Join the waiting room' }).click();
    await buyer.waitForURL(new RegExp(`/events/${eventId}$`), { timeout: 30_000 });
    await buyer.locator('[data-seat="A-1-1"]').click();
    await buyer.locator('[data-seat="A-1-2"]').click();
    await buyer.getByTestId('hold').click();
    await buyer.waitForURL(/\/checkout\//);

    step('the dashboard shows the two seats held, by itself');
    await waitForText(m.getByTestId('stat-held'), (t) => t === '2');
    await waitForText(m.getByTestId('stat-available'), (t) => t === '18 / 20');
    await waitForText(m.getByTestId('stat-rate'), (t) => /^\d+\.\d$/.test(t));
    await m.getByRole('row').filter({ hasText: 'Awaiting payment' }).waitFor();

    step('the buyer pays; the dashboard shows them sold and the revenue');
    await buyer.getByTestId('pay').click();
    await buyer.getByRole('heading', { name: 'Payment complete' }).waitFor();
    await waitForText(m.getByTestId('stat-sold'), (t) => t === '2');
    await waitForText(m.getByTestId('stat-held'), (t) => t === '0');
    await waitForText(m.getByTestId('stat-revenue'), (t) => t === '₩240,000');
    const paidRow = m.getByRole('row').filter({ hasText: 'A-1-1, A-1-2' });
    await waitForText(paidRow, (t) => t.includes('Paid'));

    step('the chart drew the held seats and then the sold ones');
    const soldLine = await m.locator('svg.chart polyline[data-series="sold"]').getAttribute('points');
    const ys = soldLine.trim().split(' ').map((p) => Number(p.split(',')[1]));
    assert.ok(ys.length >= 3 && Math.min(...ys) < ys[0], `the sold line never rose: ${soldLine}`);
    await m.getByRole('img', { name: 'Seats sold and held over time' }).waitFor();

    step('another buyer buys B-1-1 (through the API) while the dashboard watches');
    await apiBuy(eventId, process.env.SECOND_TOKEN, 'B-1-1');
    await waitForText(m.getByTestId('stat-sold'), (t) => t === '3');
    await waitForText(m.getByTestId('stat-revenue'), (t) => t === '₩320,000');
    await shot(m, 'manager-dashboard');

    step('check-in by ticket code: admitted once, then refused as used');
    const code = (await buyer.locator('.code').first().textContent()).trim();
    await m.getByLabel('Ticket code').fill(code);
    await m.getByRole('button', { name: 'Check in' }).click();
    const checkin = m.getByTestId('checkin-result');
    await waitForText(checkin, (t) => /^Admitted: A-1-[12] · VIP$/.test(t));
    await m.getByLabel('Ticket code').fill(code);
    await m.getByRole('button', { name: 'Check in' }).click();
    await waitForText(checkin, (t) => t.startsWith('Already checked in at'));

    step('refund: the confirmation can be dismissed; a used ticket\'s order is refused readably');
    await paidRow.getByRole('button', { name: 'Refund' }).click();
    await m.getByRole('dialog').getByRole('button', { name: 'Keep it' }).click();
    assert.equal(await m.getByRole('dialog').count(), 0);
    await paidRow.getByRole('button', { name: 'Refund' }).click();
    await m.getByRole('dialog').getByRole('button', { name: 'Refund' }).click();
    const refused = await waitForText(alert, (t) => t.length > 0);
    noJson(refused);
    assert.match(refused, /already used/);

    step('refund the other buyer\'s order: its seat is on sale again');
    const otherRow = m.getByRole('row').filter({ hasText: 'B-1-1' });
    await otherRow.getByRole('button', { name: 'Refund' }).click();
    await m.getByRole('dialog').getByRole('button', { name: 'Refund' }).click();
    await waitForText(otherRow, (t) => /Cancelled|Refunding/.test(t));
    await waitForText(m.getByTestId('stat-sold'), (t) => t === '2');
    await waitForText(m.getByTestId('stat-revenue'), (t) => t === '₩240,000');

    step('a notice reaches the ticket holder\'s bell');
    const unreadBefore = Number(await buyer.getByTestId('unread').textContent());
    await m.getByLabel('Title', { exact: true }).last().fill('Gate change');
    await m.getByLabel('Message').fill('Please use gate B tonight.');
    await m.getByRole('button', { name: 'Send notice' }).click();
    await m.getByText('Sent to 1 ticket holder(s).').waitFor();
    await buyer.getByRole('status').filter({ hasText: 'Gate change' }).waitFor();
    await waitForText(buyer.getByTestId('unread'), (t) => Number(t) === unreadBefore + 1);

    step('Korean, on a phone: the dashboard fits the screen');
    const phone = await context({ locale: 'ko-KR', viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    await signIn(phone, account('MANAGER'), KO);
    await phone.goto(`/manage/events/${eventId}`);
    await phone.getByRole('heading', { name: '대시보드' }).waitFor();
    await waitForText(phone.getByTestId('stat-sold'), (t) => t === '2');
    // The chart keeps drawing: a few samples in, the sold line is there, at its newest value.
    await phone.waitForFunction(() => document.querySelector('svg.chart polyline[data-series="sold"]').getAttribute('points').split(' ').length >= 3);
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow} px`);
    await shot(phone, 'phone-dashboard-ko');

    step('cancel the event: asked first, then cancelled and the paid order refunded');
    await m.getByRole('button', { name: 'Cancel event' }).click();
    const dialog = m.getByRole('dialog');
    await waitForText(dialog, (t) => t.includes('Every paid order is refunded'));
    await dialog.getByRole('button', { name: 'Cancel event' }).click();
    await waitForText(status, (t) => t === 'Cancelled');
    await waitForText(paidRow, (t) => /Cancelled|Refunding/.test(t));
    assert.equal(await m.getByRole('button', { name: 'Open sales now' }).count(), 0);

    step('a general-admission event through the same form stays a draft in the list');
    await m.getByRole('link', { name: '← My events (manager)' }).click();
    await m.getByRole('link', { name: 'New event' }).click();
    await m.getByLabel('Title', { exact: true }).fill('Summer Lawn Festival');
    await m.getByLabel('Venue', { exact: true }).fill('Riverside Park');
    await m.getByLabel('Seating').selectOption('GENERAL');
    const zone = m.getByRole('group', { name: 'Zone 1' });
    await zone.getByLabel('Name').fill('Lawn');
    await zone.getByLabel('Grade').selectOption('R');
    await zone.getByLabel('Capacity').fill('150');
    await waitForText(m.getByTestId('capacity'), (t) => t.startsWith('150 seats in all'));
    // From the keyboard: a zone added and removed again, the focus back on the add button.
    await m.getByRole('button', { name: 'Add Zone' }).focus();
    await m.keyboard.press('Enter');
    assert.equal(await m.evaluate(() => document.activeElement.closest('fieldset')?.querySelector('legend')?.textContent), 'Zone 2');
    await m.getByRole('group', { name: 'Zone 2' }).getByRole('button', { name: 'Remove' }).focus();
    await m.keyboard.press('Enter');
    assert.equal(await m.getByRole('group', { name: 'Zone 2' }).count(), 0);
    assert.equal(await m.evaluate(() => document.activeElement.textContent), 'Add Zone');
    await waitForText(m.getByTestId('capacity'), (t) => t.startsWith('150 seats in all'));
    await m.getByRole('button', { name: 'Create event' }).click();
    await m.getByRole('heading', { name: 'Summer Lawn Festival' }).waitFor();
    await waitForText(m.getByTestId('stat-available'), (t) => t === '150 / 150');
    await m.getByRole('link', { name: '← My events (manager)' }).click();
    await waitForText(m.getByRole('row').filter({ hasText: 'Summer Lawn Festival' }), (t) => t.includes('Draft') && t.includes('150'));
    await waitForText(m.getByRole('row').filter({ hasText: 'Night Market Live' }), (t) => t.includes('Cancelled') && t.includes('20'));
    await shot(m, 'manager-events');

    step('the administrator finds the user, makes them a manager, then disables them');
    const a = await context();
    await signIn(a, account('ADMIN'));
    await a.getByRole('link', { name: 'Users' }).click();
    await a.getByRole('searchbox', { name: 'Search users' }).fill(account('VICTIM').email);
    await a.getByRole('button', { name: 'Search' }).click();
    const row = a.locator(`tr[data-user="${account('VICTIM').email}"]`);
    await waitForText(row.getByTestId('user-status'), (t) => t === 'Active');
    // The role change is answered late, as on a busy server: the disable clicked meanwhile must
    // show, and so must the role (both answers, in order, drawn on the row shown at the time).
    const slowRole = async (route) => {
        if (route.request().method() === 'PATCH' && (route.request().postData() || '').includes('"role"')) {
            await new Promise((r) => setTimeout(r, 1000));
        }
        await route.continue();
    };
    await a.route('**/admin/users/*', slowRole);
    await row.getByRole('combobox').selectOption('MANAGER');
    await row.getByRole('button', { name: 'Disable' }).click();
    await a.getByRole('dialog').getByRole('button', { name: 'Disable' }).click();
    await waitForText(row.getByTestId('user-status'), (t) => t === 'Disabled');
    await waitForText(row.getByRole('combobox').locator('option:checked'), (t) => t === 'Manager');
    await a.unroute('**/admin/users/*', slowRole);
    await shot(a, 'admin-users');

    step('the administrator sends one person a notice; their bell rings');
    await a.getByRole('searchbox', { name: 'Search users' }).fill(account('BUYER').email);
    await a.getByRole('button', { name: 'Search' }).click();
    const buyerRow = a.locator(`tr[data-user="${account('BUYER').email}"]`);
    await buyerRow.getByRole('button', { name: 'Send notice' }).click();
    const form = a.getByRole('dialog', { name: `Notice to ${account('BUYER').email}` });
    await form.getByLabel('Title').fill('Your seats moved');
    await form.getByLabel('Message').fill('Row A is now row AA.');
    await form.getByRole('button', { name: 'Send notice' }).click();
    await a.getByText(`Notice sent to ${account('BUYER').email}.`).waitFor();
    await buyer.getByRole('status').filter({ hasText: 'Your seats moved' }).waitFor();

    step('the disabled user\'s next request is refused, readably, and they are signed out');
    await victim.goto('/orders');
    const ended = await waitForText(victim.getByRole('alert'), (t) => t.length > 0);
    noJson(ended);
    assert.match(ended, /session has ended.*log in again/i);
    await victim.getByRole('link', { name: 'Log in' }).waitFor();
    assert.equal(await victim.getByRole('heading', { name: 'My orders' }).count(), 0);
    await tryLogIn(victim, account('VICTIM'));
    const again = await waitForText(victim.getByRole('alert'), (t) => t.length > 0);
    noJson(again);
    assert.match(again, /^Could not sign you in: /);
    assert.equal(await victim.getByRole('button', { name: 'Log out' }).count(), 0);

    step('the login page offers the configured providers only (Kakao, Naver, Acme; not Google)');
    const visitor = await context();
    await visitor.goto('/login');
    await visitor.getByRole('link', { name: 'Continue with Kakao' }).waitFor();
    await visitor.getByRole('link', { name: 'Continue with Naver' }).waitFor();
    await visitor.getByRole('link', { name: 'Continue with Acme' }).waitFor();
    assert.equal(await visitor.getByRole('link', { name: 'Continue with Google' }).count(), 0);
    await shot(visitor, 'login-social');

    step('a sign-in that fails at the server comes back to the login page, told in words');
    await visitor.goto('/api/v1/auth/oauth2/kakao/callback?code=x&state=forged');
    const failed = await waitForText(visitor.getByRole('alert'), (t) => t.length > 0);
    noJson(failed);
    assert.match(failed, /sign-in expired or was started elsewhere/);
    assert.equal(new URL(visitor.url()).pathname, '/login');
    assert.equal(new URL(visitor.url()).hash, '');
    assert.equal(await visitor.getByRole('button', { name: 'Log out' }).count(), 0);

    step('sign in with Kakao (the local stand-in): back in the app, signed in, tokens off the URL');
    await visitor.getByRole('link', { name: 'Continue with Kakao' }).click();
    await visitor.getByRole('button', { name: 'Log out' }).waitFor();
    await waitForText(visitor.getByTestId('who'), (t) => t === '카카오 손님');
    assert.equal(new URL(visitor.url()).hash, '');
    await visitor.getByRole('link', { name: 'My orders' }).click();
    await visitor.getByText('No orders yet.').waitFor();

    assert.deepEqual(errors, []);
});
