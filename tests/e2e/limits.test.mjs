// Real 429s from a stack with tiny limits (search 2/1m, remove 1/1m), shown
// as readable messages with a live countdown.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, shot, searchFor, samplePhoto, LIMITED_BASE_URL, REMOVE_TIMEOUT, FAILED_LOAD } from './helpers.mjs';

const skip = LIMITED_BASE_URL ? false : 'LIMITED_BASE_URL is not set (run through run_e2e.py)';
let browser;
before(async () => { if (!skip) browser = await launch({ reducedMotion: 'reduce' }); });
after(async () => { if (browser) await browser.close(); });

function seconds(text) {
  const m = /try again in (\d+) seconds?/.exec(text);
  return m ? Number(m[1]) : null;
}

test('429 on search: readable message and a live countdown', { skip }, async () => {
  const page = await openPage(browser.context, { allow: [FAILED_LOAD(429)] });
  await page.goto(LIMITED_BASE_URL + '/');
  let res;
  for (const q of ['cat', 'coffee', 'apple', 'fruit']) {
    res = await searchFor(page, q);
    if (res.status() === 429) break;
  }
  assert.equal(res.status(), 429, 'the limit is reached');
  assert.ok(res.headers()['retry-after'], 'Retry-After is sent');
  await page.waitForSelector('#search-error:not([hidden])');
  const text = await page.textContent('#search-error');
  assert.match(text, /Too many searches from your address/);
  const first = seconds(text);
  assert.ok(first > 0, text);
  await page.waitForFunction((n) => {
    const m = /try again in (\d+) seconds?/.exec(document.getElementById('search-error').textContent);
    return m && Number(m[1]) < n;
  }, first, { timeout: 3000 });
  await shot(page, 'rate-limited-search');
  await page.assertClean();
  await page.close();
});

test('429 on removal: readable message and a live countdown', { skip }, async () => {
  const page = await openPage(browser.context, { allow: [FAILED_LOAD(429)] });
  await page.goto(LIMITED_BASE_URL + '/');
  const sample = await samplePhoto();
  let res;
  for (let i = 0; i < 3; i += 1) {
    const pending = page.waitForResponse((r) => r.url().endsWith('/api/remove'), { timeout: REMOVE_TIMEOUT });
    await page.setInputFiles('#file', sample.path);
    res = await pending;
    if (res.status() === 429) break;
    await page.waitForSelector('#progress', { state: 'hidden', timeout: REMOVE_TIMEOUT });
  }
  assert.equal(res.status(), 429, 'the limit is reached');
  await page.waitForSelector('#work-error:not([hidden])');
  const text = await page.textContent('#work-error');
  assert.match(text, /Too many requests from your address/);
  assert.ok(seconds(text) > 0, text);
  await shot(page, 'rate-limited-remove');
  await page.assertClean();
  await page.close();
});
