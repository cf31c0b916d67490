// Shared helpers for the browser tests: Debian's chromium through playwright-core,
// console/CSP watchers, screenshots, PNG checks.
import { chromium } from 'playwright-core';
import { mkdtemp, rm, mkdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

export const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(HERE, '..', '..');
export const BASE_URL = process.env.BASE_URL || 'http://127.0.0.1:8080';
export const UNSPLASH_BASE_URL = process.env.UNSPLASH_BASE_URL || '';
export const LIMITED_BASE_URL = process.env.LIMITED_BASE_URL || '';
export const ARTIFACTS = process.env.E2E_ARTIFACTS || join(HERE, 'artifacts');
export const LIBRARY_DIR = process.env.CLEANPNG_LIBRARY_DIR || join(ROOT, 'var', 'library');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

// How long a background removal may take in the tests (the built-in engine
// on a small CI machine, full-size images).
export const REMOVE_TIMEOUT = Number(process.env.E2E_REMOVE_TIMEOUT_MS || 90000);

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Starts chromium with a fresh profile; returns { context, close }. */
export async function launch(options = {}) {
  const userDataDir = await mkdtemp(join(tmpdir(), 'cleanpng-e2e-profile-'));
  const downloadsPath = await mkdtemp(join(tmpdir(), 'cleanpng-e2e-downloads-'));
  await mkdir(ARTIFACTS, { recursive: true });
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    acceptDownloads: true,
    downloadsPath,
    viewport: { width: 1280, height: 900 },
    colorScheme: 'light',
    ...options,
  });
  // Record CSP violations in every page before any of its own scripts run.
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || '(inline)'} in ${e.sourceFile || e.documentURI}:${e.lineNumber}`);
    });
  });
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      await rm(userDataDir, { recursive: true, force: true });
      await rm(downloadsPath, { recursive: true, force: true });
    },
  };
}

/**
 * Opens a page that records console errors, page errors and CSP violations.
 * `allow`: regexps of console errors that the test expects (e.g. the browser's
 * "Failed to load resource: ... 415" line for a deliberately refused upload).
 */
export async function openPage(context, { allow = [] } = {}) {
  const page = await context.newPage();
  const problems = [];
  page.on('console', (msg) => {
    const text = msg.text();
    const csp = /Content Security Policy/i.test(text);
    if ((msg.type() === 'error' || csp) && !(allow.some((re) => re.test(text)) && !csp)) {
      const loc = msg.location();
      problems.push(`console.${msg.type()}: ${text}${loc && loc.url ? ` (${loc.url})` : ''}`);
    }
  });
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('requestfailed', (req) => {
    const f = req.failure();
    // aborted fetches (Cancel, superseded searches) are intended
    if (f && !/ERR_ABORTED/.test(f.errorText) && !allow.some((re) => re.test(f.errorText))) {
      problems.push(`request failed: ${req.url()} ${f.errorText}`);
    }
  });
  page.setDefaultTimeout(15000);
  /** Asserts that nothing went wrong on the page so far. */
  page.assertClean = async () => {
    const csp = await page.evaluate(() => window.__cspViolations || []).catch(() => []);
    assert.deepEqual([...problems, ...csp.map((v) => `CSP violation: ${v}`)], [],
      `problems on ${page.url()}`);
  };
  page.problems = problems;
  return page;
}

export async function shot(page, name, opts = {}) {
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), ...opts });
}

/** Searches through the page's own form (Enter) and waits for the answer. */
export async function searchFor(page, q) {
  await page.fill('#q', q);
  const resp = page.waitForResponse((r) => r.url().includes('/api/search?'));
  await page.press('#q', 'Enter');
  return resp;
}

export function isPng(buf) {
  return buf.length > 33 && buf.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
}

/** PNG colour type from IHDR, and whether the file can carry transparency. */
export function pngInfo(buf) {
  assert.ok(isPng(buf), 'not a PNG');
  const width = buf.readUInt32BE(16);
  const height = buf.readUInt32BE(20);
  const colorType = buf[25];
  let trns = false;
  for (let off = 8; off + 8 <= buf.length;) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('latin1', off + 4, off + 8);
    if (type === 'tRNS') trns = true;
    if (type === 'IDAT' || type === 'IEND') break;
    off += 12 + len;
  }
  return { width, height, colorType, hasAlpha: colorType === 4 || colorType === 6 || trns };
}

/** A real photo from the library, used as an upload. */
export async function samplePhoto() {
  for (const name of ['coffee-cup-400.jpg', 'coffee-cup.jpg', 'red-apple-400.jpg']) {
    const p = join(LIBRARY_DIR, name);
    if (existsSync(p)) return { name, path: p, buffer: await readFile(p) };
  }
  throw new Error(`no sample photo in ${LIBRARY_DIR}`);
}

/** Counts pixels of an <img> in the page by alpha: { total, transparent, opaque }. */
export async function alphaStats(page, selector) {
  return page.$eval(selector, async (img) => {
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.naturalWidth;
    c.height = img.naturalHeight;
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    let transparent = 0;
    let opaque = 0;
    for (let i = 3; i < d.length; i += 4) {
      if (d[i] === 0) transparent += 1;
      else if (d[i] === 255) opaque += 1;
    }
    return { total: d.length / 4, transparent, opaque };
  });
}

export const FAILED_LOAD = (status) => new RegExp(`Failed to load resource: the server responded with a status of ${status}`);
