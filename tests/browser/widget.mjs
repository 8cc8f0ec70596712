// Paying through the Toss payment widget (payment.provider = toss with a client key), in
// Debian's chromium. test_ui.py points payment.toss.widget_url at a standalone
// `ticketon toss-sandbox`, whose stand-in SDK and payment window play Toss's part, and passes
// BASE_URL, EVENT_ID, BUYER_EMAIL, BUYER_PASSWORD, CHROMIUM, SCREENSHOTS. Each step asserts
// what the buyer sees; any failure exits non-zero with the step's name.
import assert from 'node:assert/strict';
import { runInChromium, shot, step, waitForText } from './lib.mjs';

const base = process.env.BASE_URL;
const eventId = process.env.EVENT_ID;

await runInChromium(run);

// On the event page: picks `seat` and holds it; lands on the checkout with the widget drawn.
async function holdSeat(page, seat) {
    await page.goto(`/events/${eventId}`);
    await page.locator(`[data-seat="${seat}"]`).click();
    await page.getByTestId('hold').click();
    await page.waitForURL(/\/checkout\/[\w-]+$/);
    await page.getByText('Sandbox card').waitFor();
    return page.url().split('/').pop();
}

// Agrees to the terms, presses pay, and waits for the sandbox's payment window.
async function openWindow(page) {
    await page.getByTestId('toss-agreement').check();
    await page.getByTestId('pay').click();
    await page.waitForURL(/\/v2\/window\?/);
    assert.ok(!page.url().startsWith(base), 'the payment window is Toss\'s page, not the shop\'s');
}

async function run(browser) {
    const context = await browser.newContext({ baseURL: base, locale: 'en-US', viewport: { width: 1000, height: 800 } });
    const page = await context.newPage();
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(String(e)));

    step('log in');
    await page.goto('/login');
    await page.getByLabel('Email').fill(process.env.BUYER_EMAIL);
    await page.getByLabel('Password').fill(process.env.BUYER_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('button', { name: 'Log out' }).waitFor();

    step('the checkout draws the Toss widget: payment methods and the terms');
    const orderId = await holdSeat(page, 'A-1-1');
    await page.getByTestId('toss-agreement').waitFor();
    await waitForText(page.getByTestId('countdown'), (s) => /^[0-5]:\d\d$/.test(s));
    await shot(page, 'checkout-widget');

    step('paying without agreeing to the terms is refused by the widget, in words');
    await page.getByTestId('pay').click();
    const alertText = await waitForText(page.getByRole('alert'), (s) => s.length > 0);
    assert.match(alertText, /agree/i);
    assert.ok(!alertText.includes('{'), `alert shows JSON: ${alertText}`);
    assert.match(page.url(), /\/checkout\/[\w-]+$/);

    step('the payment window shows the order; cancelling there comes back with the seat still held');
    await openWindow(page);
    await waitForText(page.getByTestId('sandbox-amount'), (s) => s.includes('70,000'));
    await shot(page, 'toss-window');
    await page.getByTestId('sandbox-cancel').click();
    await page.waitForURL(new RegExp(`/checkout/${orderId}/fail\\?`));
    await waitForText(page.getByTestId('payment-fail'), (s) => /cancelled the payment/.test(s));

    step('try again: approve in the window, the shop confirms, the ticket is issued');
    await page.getByRole('link', { name: 'Try again' }).click();
    await page.getByText('Sandbox card').waitFor();
    await openWindow(page);
    await page.getByTestId('sandbox-approve').click();
    await page.waitForURL(new RegExp(`/orders/${orderId}$`));
    await page.getByRole('heading', { name: 'Payment complete' }).waitFor();
    await page.getByTestId('ticket').first().waitFor();
    assert.equal(await page.getByTestId('ticket').count(), 1);

    step('a card the card company declines: the confirm is refused and said so');
    const second = await holdSeat(page, 'A-1-2');
    await openWindow(page);
    await page.getByTestId('sandbox-decline').click();
    await page.waitForURL(new RegExp(`/checkout/${second}/success\\?`));
    await page.getByRole('heading', { name: 'The payment did not go through' }).waitFor();
    const declined = await waitForText(page.getByRole('alert'), (s) => s.length > 0);
    assert.match(declined, /declined/i);
    await shot(page, 'payment-declined');

    step('the seat map shows the paid seat sold and the declined one free again');
    await page.goto(`/events/${eventId}`);
    await page.waitForFunction(() => document.querySelector('[data-seat="A-1-1"]')?.dataset.status === 'SOLD'
        && document.querySelector('[data-seat="A-1-2"]')?.dataset.status === 'AVAILABLE');

    step('the failed payment\'s notification is in the page\'s language, not the provider\'s');
    const card = page.locator('li.card', { has: page.getByRole('heading', { name: 'Payment failed' }) });
    // The list is read when the page opens: open it again until the dispatcher has delivered it.
    for (let tries = 0; ; ++tries) {
        await page.goto('/notifications');
        await page.getByRole('heading', { name: 'Notifications' }).waitFor();
        if (await card.count() > 0 || tries === 20) break;
        await page.waitForTimeout(250);
    }
    const text = await waitForText(card, (s) => s.includes('went back'));
    assert.doesNotMatch(text, /[\uac00-\ud7a3]/, text);

    assert.deepEqual(pageErrors, []);
}
