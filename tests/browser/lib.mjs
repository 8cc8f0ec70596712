// What the browser scripts share: chromium launched headless, named steps, screenshots, and
// on failure a screenshot of every open page beside the others.
import { chromium } from 'playwright-core';
import path from 'node:path';

const shots = process.env.SCREENSHOTS;
const started = Date.now();
let stepName = 'start';

export function step(name) {
    stepName = name;
    console.log(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${name}`);
}

export async function shot(page, name) {
    // From the top, so that the sticky header is drawn where it belongs.
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(shots, name + '.png'), fullPage: true });
}

// Runs `body(browser)`; any failure names the step and exits non-zero.
export async function runInChromium(body) {
    const browser = await chromium.launch({
        executablePath: process.env.CHROMIUM,
        headless: true,
        args: ['--no-sandbox', '--disable-dev-shm-usage'],
    });
    try {
        await body(browser);
        console.log(`all steps passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    } catch (err) {
        console.error(`step "${stepName}" failed: ${err.stack || err}`);
        process.exitCode = 1;
        let i = 0;
        for (const context of browser.contexts()) {
            for (const p of context.pages()) {
                await p.screenshot({ path: path.join(shots, `failure-${i++}.png`), fullPage: true }).catch(() => {});
            }
        }
    } finally {
        await browser.close();
    }
}

// The text of `locator`, read again until `test(text)` holds; fails naming the last text seen.
export async function waitForText(locator, test, timeout = 20_000) {
    const until = Date.now() + timeout;
    let text = null;
    for (;;) {
        text = await locator.textContent({ timeout }).catch(() => null);
        if (text !== null && test(text)) return text;
        if (Date.now() > until) throw new Error(`timed out; the text is ${JSON.stringify(text)} (${test})`);
        await new Promise((r) => setTimeout(r, 150));
    }
}
