// The other pages: privacy (which setup runs), your data (see and erase),
// about (library credits), and every page free of console errors and CSP
// violations.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { launch, openPage, shot, BASE_URL, LIBRARY_DIR } from './helpers.mjs';

let browser;
before(async () => { browser = await launch({ reducedMotion: 'reduce' }); });
after(async () => { await browser.close(); });

for (const path of ['/', '/?q=coffee', '/privacy.html', '/your-data.html', '/about.html']) {
  for (const scheme of ['light', 'dark']) {
    test(`${path} (${scheme}) loads with no console error and no CSP violation`, async () => {
      const page = await openPage(browser.context);
      await page.emulateMedia({ colorScheme: scheme });
      const res = await page.goto(BASE_URL + path, { waitUntil: 'networkidle' });
      assert.equal(res.status(), 200);
      const csp = res.headers()['content-security-policy'];
      assert.match(csp, /script-src 'self'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      // no inline style attributes or <style>/<script> bodies in the HTML itself
      const html = await res.text();
      assert.doesNotMatch(html, /\sstyle\s*=/i);
      assert.doesNotMatch(html, /<style/i);
      assert.doesNotMatch(html, /<script(?![^>]*\ssrc=)[^>]*>/i);
      assert.ok(await page.title());
      assert.equal(await page.$$eval('h1', (h) => h.length), 1);
      // every image has alt text
      assert.deepEqual(await page.$$eval('img', (imgs) => imgs.filter((i) => !i.hasAttribute('alt')).map((i) => i.src)), []);
      await page.assertClean();
      await page.close();
    });
  }
}

test('privacy page says which setup this server runs', async () => {
  const page = await openPage(browser.context);
  await page.goto(BASE_URL + '/privacy.html');
  await page.waitForSelector('#running[data-search]');
  const health = await (await page.request.get(BASE_URL + '/api/health')).json();
  assert.equal(await page.getAttribute('#running', 'data-search'), health.search_provider);
  assert.equal(await page.getAttribute('#running', 'data-engine'), health.remove_engine);
  if (health.search_provider === 'local') {
    assert.match(await page.textContent('#running'), /built-in photo library.*nothing about your searches leaves this server/s);
  }
  if (health.remove_engine === 'local') {
    assert.match(await page.textContent('#running'), /built-in engine.*your images never leave this server/s);
    assert.match(await page.textContent('[data-when="engine:local"]'), /in use on this server/);
    assert.match(await page.textContent('[data-when="engine:removebg"]'), /not used on this server/);
  }
  const text = await page.textContent('main');
  for (const period of [/Search log\s*7 days/, /Error log\s*30 days/, /Access log\s*90 days/, /0 seconds/]) assert.match(text, period);
  await shot(page, 'privacy', { fullPage: true });
  await page.assertClean();
  await page.close();
});

test('your-data page lists what is kept and erases it', async () => {
  const page = await openPage(browser.context);
  // make sure there is something to see: a search from this address
  await page.goto(BASE_URL + '/?q=raccoon');
  await page.waitForSelector('#results .card');
  const seen = page.waitForResponse((r) => r.url().endsWith('/api/privacy') && r.request().method() === 'GET');
  await page.goto(BASE_URL + '/your-data.html');
  const res = await seen;
  assert.equal(res.status(), 200, `GET /api/privacy answered ${res.status()}`);
  const data = await res.json();
  await page.waitForSelector('#summary:not([hidden])');
  assert.match(await page.textContent('#who'), new RegExp(data.address.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  for (const kind of Object.keys(data.counts)) {
    const cell = await page.textContent(`#summary-rows tr[data-kind="${kind}"] td:nth-child(2)`);
    assert.equal(cell, String(data.counts[kind]), `${kind} count shown`);
  }
  assert.ok(data.counts.search >= 1, 'the search was logged');
  // entries are shown field by field, search words included
  const searchBox = page.locator('details[data-kind="search"]');
  if (!(await searchBox.evaluate((d) => d.open))) await searchBox.locator('summary').click();
  assert.equal(await searchBox.evaluate((d) => d.open), true);
  assert.match(await searchBox.textContent(), /raccoon/);
  assert.match(await searchBox.textContent(), /Deletes itself/);
  await shot(page, 'your-data', { fullPage: true });

  // erase: ask, confirm, see what went
  await page.click('#erase');
  await page.waitForSelector('#confirm:not([hidden])');
  const erased = page.waitForResponse((r) => r.url().endsWith('/api/privacy') && r.request().method() === 'DELETE');
  const reloaded = page.waitForResponse((r) => r.url().endsWith('/api/privacy') && r.request().method() === 'GET');
  await page.click('#erase-yes');
  const del = await erased;
  assert.equal(del.status(), 200);
  const out = await del.json();
  assert.ok(out.erased.search >= 1);
  await page.waitForSelector('#done:not([hidden])');
  assert.match(await page.textContent('#done'), new RegExp(`Erased:.*${out.erased.search} search log entr`));
  const after = await (await reloaded).json();
  assert.equal(after.counts.search, 0);
  assert.equal(after.counts.error, 0);
  await page.waitForFunction(() => /Search log: 0 entries/.test(document.querySelector('details[data-kind="search"] summary').textContent));
  await page.assertClean();
  await page.close();
});

test('about page credits every library photo with its licence', async () => {
  const manifest = JSON.parse(await readFile(join(LIBRARY_DIR, 'manifest.json'), 'utf8'));
  const page = await openPage(browser.context);
  await page.goto(BASE_URL + '/about.html#photo-chelsea-the-cat');
  await page.waitForSelector('#credits-list li');
  const items = await page.$$eval('#credits-list li', (lis) => lis.map((li) => ({ id: li.id, text: li.textContent })));
  assert.equal(items.length, manifest.photos.length);
  manifest.photos.forEach((p, i) => {
    assert.equal(items[i].id, `photo-${p.id}`);
    assert.ok(items[i].text.includes(p.title), p.id);
    assert.ok(items[i].text.includes(p.author.name), p.id);
    assert.ok(items[i].text.includes(p.licence.name), p.id);
    if (p.source && p.source.package) assert.ok(items[i].text.includes(p.source.package), p.id);
  });
  // licence links point at the licence
  const withUrl = manifest.photos.find((p) => p.licence.url);
  assert.equal(await page.getAttribute(`#photo-${withUrl.id} a[href="${withUrl.licence.url}"]`, 'href'), withUrl.licence.url);
  await page.waitForFunction(() => [...document.querySelectorAll('#credits-list img')].slice(0, 3).every((i) => i.complete && i.naturalWidth > 0));
  await shot(page, 'about');
  await page.assertClean();
  await page.close();
});
