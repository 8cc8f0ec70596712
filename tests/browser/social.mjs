// Social login through a real OpenID provider (oidc-provider from npm, tests/oidc), in
// chromium: the login page's button, the provider's redirects, and back in the app signed in.
// test_ui.py passes BASE_URL, CHROMIUM, SCREENSHOTS, PROVIDER_LABEL and PERSON_NAME.
import assert from 'node:assert/strict';
import { runInChromium, step, waitForText } from './lib.mjs';

await runInChromium(async (browser) => {
    const context = await browser.newContext({ baseURL: process.env.BASE_URL, locale: 'en-US' });
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));

    step('the login page offers the provider; the person comes back from it signed in');
    await page.goto('/login?next=/orders');
    await page.getByRole('link', { name: `Continue with ${process.env.PROVIDER_LABEL}` }).click();
    await page.getByRole('button', { name: 'Log out' }).waitFor();
    await waitForText(page.getByTestId('who'), (t) => t === process.env.PERSON_NAME);

    step('the page they started from, with the tokens gone from the address');
    await page.getByRole('heading', { name: 'My orders' }).waitFor();
    const url = new URL(page.url());
    assert.equal(url.pathname, '/orders');
    assert.equal(url.hash, '');
    assert.deepEqual(errors, []);
});
