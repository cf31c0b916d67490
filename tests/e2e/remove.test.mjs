// Background removal against the real stack (local library + built-in engine):
// choose a result, download, upload by picker / drop / paste, the page's own
// checks, the server's 415, progress and Cancel.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import {
  launch, openPage, shot, searchFor, pngInfo, isPng, alphaStats, samplePhoto,
  BASE_URL, REMOVE_TIMEOUT, FAILED_LOAD,
} from './helpers.mjs';

let browser;
before(async () => { browser = await launch({ reducedMotion: 'reduce' }); });
after(async () => { await browser.close(); });

function removeResponse(page) {
  return page.waitForResponse((r) => r.url().endsWith('/api/remove') && r.request().method() === 'POST',
    { timeout: REMOVE_TIMEOUT });
}

function filenameOf(res) {
  const cd = res.headers()['content-disposition'] || '';
  const m = /filename="([^"]+)"/.exec(cd);
  return m ? m[1] : null;
}

test('choosing a result shows a transparent PNG on a checkerboard and downloads it with its name', async () => {
  const page = await openPage(browser.context);
  await page.goto(BASE_URL + '/');
  const body = await (await searchFor(page, 'cat')).json();
  const photo = body.results[0];
  // keep a copy of the bytes the server sends (passed on unchanged)
  let sent = null;
  await page.route('**/api/remove', async (route) => {
    const response = await route.fetch({ timeout: REMOVE_TIMEOUT });
    sent = await response.body();
    await route.fulfill({ response, body: sent });
  });
  const pending = removeResponse(page);
  await page.click('#results .card:first-child .pick');
  const res = await pending;
  assert.equal(res.status(), 200, `POST /api/remove answered ${res.status()}: ${await res.text().catch(() => '')}`);
  assert.match(res.request().postData() || '', new RegExp(`photo_id=${encodeURIComponent(photo.id)}`));
  await page.waitForSelector('#result:not([hidden])', { timeout: REMOVE_TIMEOUT });
  await page.waitForSelector('#progress', { state: 'hidden' });
  assert.ok(await page.$eval('#stage', (s) => s.classList.contains('checker')));
  const stats = await alphaStats(page, '#after');
  assert.ok(stats.transparent > stats.total * 0.02, `some of the result is transparent: ${JSON.stringify(stats)}`);
  assert.ok(stats.opaque > stats.total * 0.02, `some of the subject is kept: ${JSON.stringify(stats)}`);
  // before/after slider moves the split
  await page.fill('#slider', '20');
  assert.equal(await page.$eval('#stage', (s) => s.style.getPropertyValue('--split')), '20%');
  await page.waitForFunction(() => document.getElementById('before').complete);
  await shot(page, 'remove-result');

  const expected = filenameOf(res) || `${photo.id}-cleanpng.png`;
  assert.match(expected, /-cleanpng\.png$/);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
  assert.equal(download.suggestedFilename(), expected);
  const file = await readFile(await download.path());
  assert.ok(isPng(file), 'PNG signature');
  // the same bytes as the server sent (its length) and as the page shows
  if (res.headers()['content-length']) assert.equal(file.length, Number(res.headers()['content-length']));
  assert.ok(sent && file.equals(sent), `the download is the bytes the server sent (${file.length} vs ${sent && sent.length} bytes)`);
  const info = pngInfo(file);
  assert.ok(info.hasAlpha, `PNG colour type ${info.colorType} has alpha`);
  assert.equal(String(info.width), res.headers()['x-width']);
  assert.equal(String(info.height), res.headers()['x-height']);
  await page.assertClean();
  await page.close();
});

test('a background colour gives an opaque result', async () => {
  const page = await openPage(browser.context);
  await page.goto(BASE_URL + '/?q=apple');
  await page.waitForSelector('#results .card');
  const first = removeResponse(page);
  await page.click('#results .card:first-child .pick');
  await first;
  await page.waitForSelector('#result:not([hidden])', { timeout: REMOVE_TIMEOUT });
  // picking a colour selects "Colour" and runs the removal again
  const pending = removeResponse(page);
  await page.$eval('#bg-color', (i) => { i.value = '#ff8800'; i.dispatchEvent(new Event('change', { bubbles: true })); });
  assert.equal(await page.isChecked('input[name="bg"][value="color"]'), true);
  const res = await pending;
  assert.equal(res.status(), 200, await res.text().catch(() => ''));
  assert.match(res.request().postData(), /bg_color=ff8800/);
  await page.waitForSelector('#result:not([hidden])', { timeout: REMOVE_TIMEOUT });
  const stats = await alphaStats(page, '#after');
  assert.equal(stats.opaque, stats.total, 'no transparent pixels');
  await page.assertClean();
  await page.close();
});

test('crop to the subject and full size are sent, and the cropped result is shown without the comparison', async () => {
  const page = await openPage(browser.context);
  await page.goto(BASE_URL + '/?q=butterfly');
  await page.waitForSelector('#results .card');
  const first = removeResponse(page);
  await page.click('#results .card:first-child .pick');
  const plain = await first;
  assert.equal(plain.status(), 200);
  await page.waitForSelector('#result:not([hidden])', { timeout: REMOVE_TIMEOUT });
  const pending = removeResponse(page);
  await page.check('#crop');
  const res = await pending;
  assert.equal(res.status(), 200, await res.text().catch(() => ''));
  assert.match(res.request().postData(), /crop=true/);
  await page.waitForSelector('#slider-label', { state: 'hidden' });
  assert.ok(Number(res.headers()['x-width']) * Number(res.headers()['x-height'])
    <= Number(plain.headers()['x-width']) * Number(plain.headers()['x-height']), 'cropping never enlarges');
  assert.equal(await page.isHidden('#before'), true);
  const full = removeResponse(page);
  await page.check('input[name="size"][value="full"]');
  assert.match((await full).request().postData(), /size=full/);
  await page.waitForSelector('#result:not([hidden])', { timeout: REMOVE_TIMEOUT });
  await page.assertClean();
  await page.close();
});

test('upload by file picker', async () => {
  const page = await openPage(browser.context);
  await page.goto(BASE_URL + '/');
  const sample = await samplePhoto();
  const pending = removeResponse(page);
  await page.setInputFiles('#file', sample.path);
  await page.waitForSelector('#work:not([hidden])');
  assert.match(await page.textContent('#work-source'), new RegExp(sample.name.replace('.', '\\.')));
  const res = await pending;
  assert.equal(res.status(), 200, await res.text().catch(() => ''));
  assert.match(res.request().headers()['content-type'], /^multipart\/form-data/);
  await page.waitForSelector('#result:not([hidden])', { timeout: REMOVE_TIMEOUT });
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
  assert.match(download.suggestedFilename(), /-cleanpng\.png$/);
  assert.ok(isPng(await readFile(await download.path())));
  await shot(page, 'upload-result');
  await page.assertClean();
  await page.close();
});

test('drag and drop, and paste, send the image', async () => {
  const page = await openPage(browser.context);
  await page.goto(BASE_URL + '/');
  const sample = await samplePhoto();
  const b64 = sample.buffer.toString('base64');
  for (const how of ['drop', 'paste']) {
    const req = page.waitForRequest((r) => r.url().endsWith('/api/remove'));
    await page.evaluate(([how, b64]) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], `${how}.jpg`, { type: 'image/jpeg' }));
      if (how === 'drop') {
        document.getElementById('drop').dispatchEvent(new DragEvent('dragenter', { bubbles: true, dataTransfer: dt }));
        document.getElementById('drop').dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: dt }));
      } else {
        document.body.dispatchEvent(new ClipboardEvent('paste', { bubbles: true, cancelable: true, clipboardData: dt }));
      }
    }, [how, b64]);
    const r = await req;
    assert.match(r.headers()['content-type'], /^multipart\/form-data/, how);
    assert.match(await page.textContent('#work-source'), new RegExp(`${how}\\.jpg`));
    // the server could read the image: the bytes went through
    const res = await r.response();
    assert.equal(res.status(), 200, `${how}: ${await res.text().catch(() => '')}`);
    await page.waitForSelector('#result:not([hidden])', { timeout: REMOVE_TIMEOUT });
  }
  await page.assertClean();
  await page.close();
});

test('the page refuses a file that is not an image, or too big, before uploading', async () => {
  const page = await openPage(browser.context);
  let sent = 0;
  page.on('request', (r) => { if (r.url().includes('/api/remove')) sent += 1; });
  await page.goto(BASE_URL + '/');
  await page.setInputFiles('#file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
  await page.waitForSelector('#upload-error:not([hidden])');
  assert.match(await page.textContent('#upload-error'), /notes\.txt.*not a JPEG, PNG or WebP image/);
  const big = Buffer.alloc(22 * 1024 * 1024 + 1, 0);
  await page.setInputFiles('#file', { name: 'huge.png', mimeType: 'image/png', buffer: big });
  await page.waitForFunction(() => /limit is 22 MB/.test(document.getElementById('upload-error').textContent));
  assert.equal(sent, 0, 'nothing was uploaded');
  assert.equal(await page.isHidden('#work'), true);
  await shot(page, 'upload-refused');
  await page.assertClean();
  await page.close();
});

test('a text file that claims to be a PNG gets the server’s 415 as a readable message', async () => {
  const page = await openPage(browser.context, { allow: [FAILED_LOAD(415)] });
  await page.goto(BASE_URL + '/');
  const pending = removeResponse(page);
  // The type claims image/png, so the page's own check lets it through.
  await page.setInputFiles('#file', { name: 'fake.png', mimeType: 'image/png', buffer: Buffer.from('this is only text, not a picture\n'.repeat(20)) });
  const res = await pending;
  assert.equal(res.status(), 415);
  assert.equal((await res.json()).error.code, 'unsupported_media_type');
  await page.waitForSelector('#work-error:not([hidden])');
  const text = await page.textContent('#work-error');
  assert.match(text, /could not recognise this file as a JPEG, PNG or WebP image/);
  assert.equal(await page.isHidden('#result'), true);
  assert.equal(await page.isHidden('#progress'), true);
  await shot(page, 'error-415');
  await page.assertClean();
  await page.close();
});

test('progress counts seconds and Cancel stops the removal', async () => {
  const page = await openPage(browser.context);
  await page.goto(BASE_URL + '/');
  // hold the request back so that there is time to watch and cancel it
  await page.route('**/api/remove', () => {});
  const sample = await samplePhoto();
  await page.setInputFiles('#file', sample.path);
  await page.waitForSelector('#progress:not([hidden])');
  await page.waitForFunction(() => document.getElementById('elapsed').textContent === '1 s', null, { timeout: 5000 });
  await shot(page, 'progress');
  await page.click('#cancel');
  await page.waitForSelector('#progress', { state: 'hidden' });
  assert.match(await page.textContent('#work-error'), /Cancelled/);
  await page.unroute('**/api/remove');
  await page.assertClean();
  await page.close();
});
