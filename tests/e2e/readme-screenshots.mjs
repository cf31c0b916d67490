// Takes the README's screenshots from a running stack (not a test):
//   /usr/bin/python3 tests/e2e/run_e2e.py --serve      # prints BASE_URL
//   BASE_URL=http://127.0.0.1:NNNN node tests/e2e/readme-screenshots.mjs
// writes docs/screenshots/{search,remove,phone-dark}.png. The committed copies
// were then reduced to 256 colours with python3-pil (Image.quantize) to keep
// the repository small.
import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { launch, openPage, BASE_URL, ROOT } from './helpers.mjs';

const OUT = join(ROOT, 'docs', 'screenshots');
await mkdir(OUT, { recursive: true });
const browser = await launch({ reducedMotion: 'reduce' });
const imagesLoaded = (page) => page.waitForFunction(() => [...document.querySelectorAll('#results img')]
  .every((img) => img.complete && img.naturalWidth > 0));

try {
  // 1. search results
  let page = await openPage(browser.context);
  await page.setViewportSize({ width: 1200, height: 760 });
  await page.goto(BASE_URL + '/?q=cat');
  await page.waitForSelector('#results .card');
  await imagesLoaded(page);
  await page.screenshot({ path: join(OUT, 'search.png') });
  await page.close();

  // 2. a removal with the before/after slider
  page = await openPage(browser.context);
  await page.setViewportSize({ width: 1200, height: 760 });
  await page.goto(BASE_URL + '/?q=butterfly');
  await page.waitForSelector('#results .card');
  await page.click('#results .card:first-child .pick');
  await page.waitForSelector('#result:not([hidden])', { timeout: 90000 });
  await page.fill('#slider', '35');
  await page.waitForFunction(() => document.getElementById('before').complete && document.getElementById('after').complete);
  await page.$eval('#work', (w) => w.scrollIntoView({ block: 'start' }));
  await page.screenshot({ path: join(OUT, 'remove.png') });
  await page.close();

  // 3. phone, dark mode
  page = await openPage(browser.context);
  await page.setViewportSize({ width: 390, height: 844 });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.goto(BASE_URL + '/?q=cat');
  await page.waitForSelector('#results .card');
  await imagesLoaded(page);
  await page.screenshot({ path: join(OUT, 'phone-dark.png') });
  await page.close();
  console.log(`screenshots written to ${OUT}`);
} finally {
  await browser.close();
}
