// How the page explains each API error (and the engine's warning note). The
// server's answers are played back in the browser from the contract in
// docs/SPEC.md, so every case is covered even those the real stack cannot
// easily produce on demand (413 behind the page's own size check, 503 quota,
// a dropped connection). The real 415 and 429 are in remove/limits tests.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, shot, samplePhoto, BASE_URL, FAILED_LOAD } from './helpers.mjs';

let browser;
before(async () => { browser = await launch({ reducedMotion: 'reduce' }); });
after(async () => { await browser.close(); });

function errorBody(code, message, param) {
  return JSON.stringify({ error: { code, message, ...(param ? { param } : {}) } });
}

async function uploadWith(page, fulfil) {
  await page.route('**/api/remove', (route) => route.fulfill(fulfil));
  const sample = await samplePhoto();
  await page.setInputFiles('#file', sample.path);
  await page.waitForSelector('#work-error:not([hidden])');
  return page.textContent('#work-error');
}

const cases = [
  { status: 413, code: 'payload_too_large', message: 'the body is larger than 22 MB', expect: /too big: the server accepts images up to 22 MB/ },
  { status: 422, code: 'invalid_image', message: 'the JPEG data ends before the image does', expect: /could not use this image: the JPEG data ends before the image does/ },
  { status: 422, code: 'image_too_large', message: 'the image is 30000 × 2000 px; at most 20,000 px per side', expect: /too large to process: the image is 30000 × 2000 px/ },
  { status: 504, code: 'upstream_timeout', message: 'the engine did not answer in time', expect: /took too long/ },
];

for (const c of cases) {
  test(`${c.status} ${c.code} is explained`, async () => {
    const page = await openPage(browser.context, { allow: [FAILED_LOAD(c.status)] });
    await page.goto(BASE_URL + '/');
    const text = await uploadWith(page, { status: c.status, contentType: 'application/json', body: errorBody(c.code, c.message) });
    assert.match(text, c.expect);
    assert.equal(await page.isHidden('#progress'), true);
    await page.assertClean();
    await page.close();
  });
}

test('503 upstream_quota explains the quota and counts down Retry-After', async () => {
  const page = await openPage(browser.context, { allow: [FAILED_LOAD(503)] });
  await page.goto(BASE_URL + '/');
  const text = await uploadWith(page, {
    status: 503, contentType: 'application/json', headers: { 'Retry-After': '3' },
    body: errorBody('upstream_quota', 'the removal service quota is spent'),
  });
  assert.match(text, /allowance for this site is used up/);
  assert.match(text, /try again in 3 seconds/);
  await page.waitForFunction(() => /try again in [12] seconds?/.test(document.getElementById('work-error').textContent));
  await page.waitForFunction(() => /You can try again now/.test(document.getElementById('work-error').textContent), null, { timeout: 6000 });
  await page.assertClean();
  await page.close();
});

test('429 on removal shows a live countdown from Retry-After', async () => {
  const page = await openPage(browser.context, { allow: [FAILED_LOAD(429)] });
  await page.goto(BASE_URL + '/');
  const text = await uploadWith(page, {
    status: 429, contentType: 'application/json', headers: { 'Retry-After': '42', 'RateLimit-Remaining': '0' },
    body: errorBody('rate_limited', 'too many requests'),
  });
  assert.match(text, /Too many requests from your address/);
  assert.match(text, /try again in 42 seconds/);
  await page.waitForFunction(() => /try again in 41 seconds/.test(document.getElementById('work-error').textContent));
  await page.assertClean();
  await page.close();
});

test('a network failure is explained, not silent', async () => {
  const page = await openPage(browser.context, { allow: [/ERR_INTERNET_DISCONNECTED|ERR_FAILED|net::/] });
  await page.goto(BASE_URL + '/');
  await page.route('**/api/remove', (route) => route.abort('internetdisconnected'));
  const sample = await samplePhoto();
  await page.setInputFiles('#file', sample.path);
  await page.waitForSelector('#work-error:not([hidden])');
  assert.match(await page.textContent('#work-error'), /Could not reach CleanPNG/);
  await page.route('**/api/search?*', (route) => route.abort('internetdisconnected'));
  await page.fill('#q', 'cat');
  await page.press('#q', 'Enter');
  await page.waitForSelector('#search-error:not([hidden])');
  assert.match(await page.textContent('#search-error'), /Could not reach CleanPNG/);
  await page.close();
});

test('a non-JSON error page still gives a readable message', async () => {
  const page = await openPage(browser.context, { allow: [FAILED_LOAD(502)] });
  await page.goto(BASE_URL + '/');
  const text = await uploadWith(page, { status: 502, contentType: 'text/html', body: '<html><body>Bad Gateway</body></html>' });
  assert.match(text, /answered with an error/);
  await page.close();
});

test('the engine’s low-confidence warning is shown as a gentle note', async () => {
  const page = await openPage(browser.context);
  await page.goto(BASE_URL + '/');
  const sample = await samplePhoto();
  // a tiny valid RGBA PNG (2×1: one transparent, one opaque pixel)
  const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAABCAYAAAD0In+KAAAAEUlEQVR4nGNgYGD4z8DAwMAAAA0AAf8ZbBMAAAAASUVORK5CYII=', 'base64');
  await page.route('**/api/remove', (route) => route.fulfill({
    status: 200, contentType: 'image/png', body: png,
    headers: { 'Content-Disposition': 'attachment; filename="my-photo-cleanpng.png"', 'X-Width': '2', 'X-Height': '1', 'X-Engine': 'local', 'X-Cutout-Warning': 'low_confidence,touches_edge' },
  }));
  await page.setInputFiles('#file', sample.path);
  await page.waitForSelector('#result:not([hidden])');
  assert.match(await page.textContent('#warning'), /^Note: the subject was hard to tell apart.*touches the edge/);
  assert.equal(await page.getAttribute('#download', 'download'), 'my-photo-cleanpng.png');
  assert.match(await page.textContent('#result-meta'), /2 × 1 px.*built-in engine/);
  await page.assertClean();
  await page.close();
});
