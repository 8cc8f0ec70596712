// The buyer's flow in Debian's chromium, driven by playwright-core (test_ui.py starts the
// server and passes BASE_URL, EVENT_ID, CROWD_TOKENS, CHROMIUM, SCREENSHOTS). Each step
// asserts what a person would see; any failure exits non-zero with the step's name.
import assert from 'node:assert/strict';
import { runInChromium, shot, step } from './lib.mjs';

const base = process.env.BASE_URL;
const eventId = process.env.EVENT_ID;
const crowd = JSON.parse(process.env.CROWD_TOKENS || '[]');

await runInChromium(run);

async function run(browser) {
    const buyer = await browser.newContext({ baseURL: base, locale: 'en-US', viewport: { width: 1100, height: 800 } });
    const page = await buyer.newPage();
    const consoleErrors = [];
    page.on('pageerror', (e) => consoleErrors.push(String(e)));

    step('the event list is served at / and lists the events');
    await page.goto('/');
    await page.getByRole('link', { name: 'Ticketon Live 2027' }).waitFor();
    await page.getByRole('link', { name: 'Summer Musical' }).waitFor();
    await shot(page, 'events');

    step('search and category narrow the list');
    await page.getByRole('combobox', { name: 'All categories' }).selectOption('MUSICAL');
    await page.waitForURL(/category=MUSICAL/);
    await page.getByRole('link', { name: 'Summer Musical' }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'Ticketon Live 2027' }).count(), 0);

    step('a wrong login shows a readable error, not JSON');
    await page.goto('/login');
    await page.getByLabel('Email').fill('nobody@example.com');
    await page.getByLabel('Password').fill('wrong-password');
    await page.getByRole('button', { name: 'Log in' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    const alertText = await alert.textContent();
    assert.ok(!alertText.includes('{'), `alert shows JSON: ${alertText}`);
    assert.match(alertText, /log in again|password|email/i);

    step('sign up');
    const email = `web-${Date.now()}@example.com`;
    await page.goto('/signup');
    await page.getByLabel('Name').fill('Mina');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.getByRole('button', { name: 'Log out' }).waitFor();

    step('a second browser (anonymous) watches the seat map');
    const watcher = await browser.newContext({ baseURL: base, locale: 'en-US' });
    const watch = await watcher.newPage();
    await watch.goto(`/events/${eventId}`);
    await watch.locator('[data-seat="A-1-3"]').waitFor();

    step('the event page shows the seat map; the waiting room is the way in');
    await page.goto(`/events/${eventId}`);
    await page.locator('[data-seat="A-1-3"]').waitFor();
    // People join just before the buyer, so the buyer waits behind them (1 admitted a second).
    for (const token of crowd) {
        const res = await fetch(`${base}/api/v1/events/${eventId}/queue`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
        assert.equal(res.status, 200);
    }
    await page.getByRole('button', { name: 'Join the waiting room' }).click();

    step('the waiting room shows a position, then lets the buyer in by itself');
    await page.waitForURL(new RegExp(`/events/${eventId}/queue$`));
    const position = page.getByTestId('position');
    await position.waitFor();
    await page.waitForFunction(() => /^\d+$/.test(document.querySelector('[data-testid=position]')?.textContent ?? ''));
    const firstPosition = Number(await position.textContent());
    if (firstPosition > 1) {
        // The line moves on the page by itself: the position drops and the bar fills.
        await page.waitForFunction((f) => Number(document.querySelector('[data-testid=position]').textContent) < f, firstPosition);
        assert.ok(Number(await page.locator('progress').getAttribute('value')) > 0);
    }
    await shot(page, 'waiting-room');
    await page.waitForURL(new RegExp(`/events/${eventId}$`), { timeout: 30_000 });
    console.log(`  waited from position ${firstPosition}`);

    step('pick two seats: one by mouse, one by keyboard');
    await page.locator('[data-seat="A-1-3"]').click();
    await page.locator('[data-seat="A-1-4"]').focus();
    await page.keyboard.press('Enter');
    assert.equal(await page.locator('[data-seat="A-1-3"]').getAttribute('aria-checked'), 'true');
    assert.equal(await page.locator('[data-seat="A-1-4"]').getAttribute('aria-checked'), 'true');
    await shot(page, 'event-seat-map');
    await page.getByTestId('hold').click();

    step('checkout counts down to the hold\'s expiry');
    await page.waitForURL(/\/checkout\//);
    const countdown = page.getByTestId('countdown');
    await countdown.waitFor();
    const first = await countdown.textContent();
    assert.match(first, /^[0-5]:\d\d$/);
    // Never more than the hold's five minutes, whatever the browser's clock says.
    const [minutes, seconds] = first.split(':').map(Number);
    assert.ok(minutes * 60 + seconds <= 300, `countdown ${first} is longer than the hold`);
    await page.waitForFunction((f) => document.querySelector('[data-testid=countdown]').textContent !== f, first);

    step('the other browser sees the two seats held without reloading');
    await watch.waitForFunction(() => ['A-1-3', 'A-1-4'].every((id) => document.querySelector(`[data-seat="${id}"]`).dataset.status === 'HELD'));
    await shot(page, 'checkout');

    step('pay in the Toss sandbox; the tickets appear with QR codes');
    await page.getByTestId('pay').click();
    await page.waitForURL(/\/orders\/ord_/);
    await page.getByRole('heading', { name: 'Payment complete' }).waitFor();
    const tickets = page.getByTestId('ticket');
    await tickets.nth(1).waitFor();
    assert.equal(await tickets.count(), 2);
    await page.getByRole('img', { name: 'QR code of ticket A-1-3' }).waitFor();
    await page.waitForFunction(() => [...document.querySelectorAll('img.qr')].every((img) => img.complete && img.naturalWidth > 0));

    step('the other browser sees the seats sold without reloading');
    await watch.waitForFunction(() => ['A-1-3', 'A-1-4'].every((id) => document.querySelector(`[data-seat="${id}"]`).dataset.status === 'SOLD'));
    await shot(watch, 'seat-map-sold');

    step('the bell counts the booking notification, live');
    await page.waitForFunction(() => document.querySelector('[data-testid=unread]')?.textContent === '1');
    await shot(page, 'tickets');
    await page.locator('#bell').click();
    await page.getByRole('heading', { name: 'Booking confirmed' }).waitFor();
    await shot(page, 'notifications');
    await page.getByRole('button', { name: 'Mark all read' }).click();
    await page.waitForFunction(() => document.querySelector('[data-testid=unread]')?.hidden === true);

    step('my orders lists the paid order');
    await page.getByRole('link', { name: 'My orders' }).click();
    await page.getByText('Paid').first().waitFor();

    step('Korean on a phone-size screen, without sideways scrolling');
    const phone = await browser.newContext({ baseURL: base, locale: 'ko-KR', viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    const mobile = await phone.newPage();
    await mobile.goto('/');
    await mobile.getByRole('heading', { name: '공연' }).waitFor();
    await mobile.getByRole('link', { name: 'Ticketon Live 2027' }).click();
    await mobile.locator('[data-seat="A-1-3"]').waitFor();
    assert.equal(await mobile.locator('[data-seat="A-1-3"]').getAttribute('data-status'), 'SOLD');
    const overflow = await mobile.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow} px`);
    await shot(mobile, 'phone-event-ko');

    step('the language switch turns the page to English');
    await mobile.getByRole('button', { name: '언어 바꾸기' }).click();
    await mobile.getByRole('link', { name: 'Events' }).waitFor();

    step('the API and operations paths are never answered with the UI');
    const api404 = await fetch(`${base}/api/v1/nope`);
    assert.equal(api404.status, 404);
    assert.equal(api404.headers.get('content-type'), 'application/problem+json');
    const index = await fetch(`${base}/orders`);
    assert.equal(index.status, 200);
    assert.match(index.headers.get('content-type'), /^text\/html/);

    assert.deepEqual(consoleErrors, []);
}
