// Search on the local library: results, attribution, debounce, load more,
// keyboard, phone layout, page weight.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { launch, openPage, shot, searchFor, BASE_URL, ARTIFACTS } from './helpers.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser.close(); });

test('first page weighs under 100 KB before images (HTML+CSS+JS)', async () => {
  const page = await openPage(browser.context);
  const cdp = await browser.context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  const types = new Map();
  const sizes = new Map();
  cdp.on('Network.responseReceived', (e) => types.set(e.requestId, { type: e.type, url: e.response.url }));
  cdp.on('Network.loadingFinished', (e) => sizes.set(e.requestId, e.encodedDataLength));
  await page.goto(BASE_URL + '/', { waitUntil: 'networkidle' });
  const files = [];
  let total = 0;
  let all = 0;
  for (const [id, size] of sizes) {
    const t = types.get(id);
    if (!t) continue;
    all += size;
    if (['Document', 'Stylesheet', 'Script'].includes(t.type)) {
      total += size;
      files.push({ url: t.url.replace(BASE_URL, ''), type: t.type, bytes: size });
    }
  }
  await writeFile(join(ARTIFACTS, 'page-weight.json'), JSON.stringify({ html_css_js_bytes: total, all_bytes: all, files }, null, 2));
  console.log(`first page: ${total} bytes HTML+CSS+JS transferred (${files.length} files), ${all} bytes in all`);
  assert.ok(files.some((f) => f.type === 'Script'), 'the page loads its script');
  assert.ok(total < 100 * 1024, `first page is ${total} bytes`);
  await page.assertClean();
  await page.close();
});

test('search shows results with placeholders, alt text and attribution (local library)', async () => {
  const page = await openPage(browser.context);
  await page.goto(BASE_URL + '/');
  const resp = await searchFor(page, 'cat');
  const body = await resp.json();
  assert.equal(resp.status(), 200);
  assert.equal(body.provider, 'local');
  await page.waitForSelector('#results .card');
  const cards = await page.$$eval('#results .card', (els) => els.map((li) => ({
    alt: li.querySelector('img').alt,
    bg: li.querySelector('.pick').style.backgroundColor,
    credit: li.querySelector('.credit').textContent,
    links: [...li.querySelectorAll('.credit a')].map((a) => ({ text: a.textContent, href: a.getAttribute('href') })),
  })));
  assert.equal(cards.length, body.results.length);
  body.results.forEach((r, i) => {
    const c = cards[i];
    assert.equal(c.alt, r.description || `Photo by ${r.author.name}`);
    if (r.color) assert.ok(c.bg, 'placeholder colour while loading');
    assert.ok(c.credit.startsWith(`Photo by ${r.author.name}`), c.credit);
    assert.ok(!c.credit.includes('Unsplash'), 'no Unsplash wording for the local library');
    const authorLink = c.links.find((l) => l.text === r.author.name);
    if (r.author.url) assert.equal(authorLink && authorLink.href, r.author.url);
    else assert.equal(authorLink, undefined);
    assert.ok(c.links.some((l) => l.text === 'licence' && l.href.startsWith('/about.html#photo-')));
  });
  assert.match(await page.textContent('#search-status'), /photos? for “cat”/);
  assert.equal(new URL(page.url()).searchParams.get('q'), 'cat');
  // images really load (CSP allows them)
  await page.waitForFunction(() => [...document.querySelectorAll('#results img')].slice(0, 4)
    .every((img) => img.complete && img.naturalWidth > 0));
  await shot(page, 'search-results');
  await page.assertClean();
  await page.close();
});

test('typing searches after a pause, once', async () => {
  const page = await openPage(browser.context);
  const searches = [];
  page.on('request', (r) => { if (r.url().includes('/api/search?')) searches.push(new URL(r.url()).searchParams.get('q')); });
  await page.goto(BASE_URL + '/');
  await page.click('#q');
  await page.keyboard.type('coffee', { delay: 60 });
  await page.waitForSelector('#results .card');
  await page.waitForTimeout(800);
  assert.deepEqual(searches, ['coffee']);
  await page.assertClean();
  await page.close();
});

test('load more appends the next page until the last', async () => {
  const page = await openPage(browser.context);
  await page.goto(BASE_URL + '/');
  const body = await (await searchFor(page, 'a')).json();
  assert.ok(body.total_pages >= 2, 'the query needs at least two pages');
  await page.waitForSelector('#more:not([hidden])');
  const first = await page.locator('#results .card').count();
  const next = page.waitForResponse((r) => r.url().includes('/api/search?') && r.url().includes('page=2'));
  await page.click('#more');
  await next;
  await page.waitForFunction((n) => document.querySelectorAll('#results .card').length > n, first);
  const ids = await page.$$eval('#results .credit', (els) => els.map((e) => e.id));
  assert.equal(new Set(ids).size, ids.length, 'no duplicates');
  if (body.total_pages === 2) {
    await page.waitForSelector('#more', { state: 'hidden' });
    assert.equal(ids.length, body.total);
  }
  // focus moves to the first new result
  assert.equal(await page.evaluate(() => document.activeElement.closest('.card') === document.querySelectorAll('#results .card')[20]), true);
  await page.assertClean();
  await page.close();
});

async function focusStyle(page) {
  return page.evaluate(() => {
    const a = document.activeElement;
    const s = getComputedStyle(a);
    return { id: a.id, cls: a.className, tag: a.tagName, outline: s.outlineStyle, width: parseFloat(s.outlineWidth), focusVisible: a.matches(':focus-visible') };
  });
}

test('keyboard reaches the search box and the results with a visible focus', async () => {
  const page = await openPage(browser.context, { allow: [/Failed to load resource/] });
  await page.goto(BASE_URL + '/');
  let f;
  for (let i = 0; i < 8; i += 1) {
    await page.keyboard.press('Tab');
    f = await focusStyle(page);
    if (f.id === 'q') break;
  }
  assert.equal(f.id, 'q', 'Tab reaches the search box');
  assert.ok(f.focusVisible && f.outline !== 'none' && f.width >= 2, `visible focus on the search box: ${JSON.stringify(f)}`);
  // the upload button is reachable too, and shows the focus on its label
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'file');
  const label = await page.$eval('label[for="file"]', (l) => getComputedStyle(l).outlineStyle);
  assert.notEqual(label, 'none', 'visible focus on the upload button');
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Shift+Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'q');
  await page.keyboard.type('cat');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#results .card');
  for (let i = 0; i < 20; i += 1) {
    await page.keyboard.press('Tab');
    f = await focusStyle(page);
    if (f.cls.includes('pick')) break;
  }
  assert.ok(f.cls.includes('pick'), 'Tab reaches the first result');
  assert.ok(f.focusVisible && f.outline !== 'none' && f.width >= 2, `visible focus on a result: ${JSON.stringify(f)}`);
  assert.equal(await page.isVisible('.pick:focus .pick-label'), true);
  await shot(page, 'keyboard-focus');
  // Enter on a result opens the removal panel and moves focus there
  await page.keyboard.press('Enter');
  await page.waitForSelector('#work:not([hidden])');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'work-title');
  await page.assertClean();
  await page.close();
});

test('phone viewport (390×844): no sideways scrolling, two columns of results', async () => {
  const page = await openPage(browser.context);
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(BASE_URL + '/');
  await searchFor(page, 'cat');
  await page.waitForSelector('#results .card');
  await page.waitForFunction(() => [...document.querySelectorAll('#results img')].slice(0, 4)
    .every((img) => img.complete && img.naturalWidth > 0));
  const m = await page.evaluate(() => {
    const cards = [...document.querySelectorAll('#results .card')].map((c) => c.getBoundingClientRect());
    const q = document.getElementById('q').getBoundingClientRect();
    const btn = document.querySelector('#search button').getBoundingClientRect();
    return {
      scrollWidth: document.documentElement.scrollWidth,
      columns: cards.filter((r) => Math.abs(r.top - cards[0].top) < 2).length,
      cardWidth: cards[0].width,
      qWidth: q.width,
      buttonRight: btn.right,
      buttonHeight: btn.height,
    };
  });
  assert.ok(m.scrollWidth <= 390, `page is ${m.scrollWidth}px wide`);
  assert.equal(m.columns, 2, JSON.stringify(m));
  assert.ok(m.cardWidth > 140, JSON.stringify(m));
  assert.ok(m.qWidth > 200 && m.buttonRight <= 390, JSON.stringify(m));
  assert.ok(m.buttonHeight >= 40, 'touch-sized search button');
  await shot(page, 'phone-results');
  await page.assertClean();
  await page.close();
});

test('dark mode follows the system setting', async () => {
  const page = await openPage(browser.context);
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.goto(BASE_URL + '/?q=coffee');
  await page.waitForSelector('#results .card');
  const bg = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
  const [r, g, b] = bg.match(/\d+/g).map(Number);
  assert.ok(r + g + b < 120, `dark background, got ${bg}`);
  await shot(page, 'dark-mode');
  await page.assertClean();
  await page.close();
});
