// Search through the fake Unsplash (tests/fakes/fake_unsplash.py): attribution
// worded and linked as Unsplash asks, images hotlinked under the CSP, null
// fields, the provider's quota (503 upstream_quota), and the privacy page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, shot, searchFor, UNSPLASH_BASE_URL, FAILED_LOAD } from './helpers.mjs';

const skip = UNSPLASH_BASE_URL ? false : 'UNSPLASH_BASE_URL is not set (run through run_e2e.py)';
let browser;
before(async () => { if (!skip) browser = await launch({ reducedMotion: 'reduce' }); });
after(async () => { if (browser) await browser.close(); });

const UTM = /[?&]utm_source=cleanpng&utm_medium=referral$/;

test('results say “Photo by <name> on Unsplash”, both linked with utm parameters', { skip }, async () => {
  const page = await openPage(browser.context);
  await page.goto(UNSPLASH_BASE_URL + '/');
  const body = await (await searchFor(page, 'cat')).json();
  assert.equal(body.provider, 'unsplash');
  await page.waitForSelector('#results .card');
  const credits = await page.$$eval('#results .credit', (els) => els.map((p) => ({
    text: p.textContent,
    links: [...p.querySelectorAll('a')].map((a) => ({ text: a.textContent, href: a.href, target: a.target, rel: a.rel })),
  })));
  assert.equal(credits.length, body.results.length);
  body.results.forEach((r, i) => {
    const c = credits[i];
    assert.equal(c.text, `Photo by ${r.author.name} on Unsplash`);
    assert.equal(c.links.length, 2);
    assert.deepEqual(c.links.map((l) => l.text), [r.author.name, 'Unsplash']);
    assert.equal(c.links[0].href, r.author.url);
    assert.equal(c.links[1].href, r.link);
    assert.match(c.links[0].href, UTM);
    assert.match(c.links[1].href, UTM);
    assert.match(c.links[1].href, /^https:\/\/unsplash\.com\/photos\//);
    assert.match(c.links[0].rel, /noopener/);
  });
  assert.match(await page.textContent('#search-status'), /on Unsplash/);
  // the photos come from the provider's image host, allowed by the CSP
  await page.waitForFunction(() => [...document.querySelectorAll('#results img')].slice(0, 4)
    .every((img) => img.complete && img.naturalWidth > 0), null, { timeout: 20000 });
  const src = await page.getAttribute('#results img', 'src');
  assert.equal(src, body.results[0].urls.small);
  await shot(page, 'unsplash-results');
  await page.assertClean();
  await page.close();
});

test('results with null description and colour still get alt text and a placeholder', { skip }, async () => {
  const page = await openPage(browser.context);
  await page.goto(UNSPLASH_BASE_URL + '/');
  const body = await (await searchFor(page, 'dog __nulls')).json();
  await page.waitForSelector('#results .card');
  const alts = await page.$$eval('#results img', (els) => els.map((i) => i.alt));
  body.results.forEach((r, i) => assert.equal(alts[i], `Photo by ${r.author.name}`));
  await page.assertClean();
  await page.close();
});

test('the provider’s spent quota (503 upstream_quota) is explained', { skip }, async () => {
  const page = await openPage(browser.context, { allow: [FAILED_LOAD(503)] });
  await page.goto(UNSPLASH_BASE_URL + '/');
  const res = await searchFor(page, 'cat __403rate');
  assert.equal(res.status(), 503);
  await page.waitForSelector('#search-error:not([hidden])');
  assert.match(await page.textContent('#search-error'), /photo provider’s allowance for this site is used up/);
  await page.assertClean();
  await page.close();
});

test('the privacy page says that search words go to Unsplash', { skip }, async () => {
  const page = await openPage(browser.context);
  await page.goto(UNSPLASH_BASE_URL + '/privacy.html');
  await page.waitForSelector('#running[data-search="unsplash"]');
  assert.match(await page.textContent('#running'), /searched in Unsplash.*search words go to Unsplash/s);
  assert.match(await page.textContent('[data-when="search:unsplash"]'), /in use on this server/);
  assert.match(await page.textContent('[data-when="search:local"]'), /not used on this server/);
  await page.assertClean();
  await page.close();
});
