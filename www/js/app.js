// The main page: search, choose or upload, remove the background, download.
import { el, api, ApiError, showError, clearError } from './common.js';

const MAX_BYTES = 22 * 1024 * 1024; // what nginx and the workers accept
const TYPES = ['image/jpeg', 'image/png', 'image/webp'];
const EXTENSIONS = { jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp' };
const PER_PAGE = 20;
const DEBOUNCE_MS = 500;
// X-Cutout-Warning words of the built-in engine, said gently
const WARNINGS = {
  low_confidence: 'the subject was hard to tell apart from its background, so some edges may be off. A photo with a plainer background usually works better.',
  touches_edge: 'the subject touches the edge of the photo, so it may be cut off there.',
};

const $ = (id) => document.getElementById(id);
const form = $('search');
const input = $('q');
const grid = $('results');
const statusLine = $('search-status');
const searchError = $('search-error');
const moreButton = $('more');
const uploadError = $('upload-error');
const fileInput = $('file');
const drop = $('drop');
const work = $('work');
const workError = $('work-error');
const progress = $('progress');
const elapsed = $('elapsed');
const result = $('result');
const before = $('before');
const after = $('after');
const stage = $('stage');
const compare = $('compare');
const slider = $('slider');
const sliderLabel = $('slider-label');
const warning = $('warning');
const download = $('download');
const optionsForm = $('options');

// ---------------------------------------------------------------- search ---

const search = { q: '', page: 0, totalPages: 0, provider: '', ctrl: null, timer: 0 };

async function runSearch(q, { append = false } = {}) {
  q = q.trim();
  if (!q) return;
  clearTimeout(search.timer);
  if (search.ctrl) search.ctrl.abort();
  const ctrl = new AbortController();
  search.ctrl = ctrl;
  const page = append ? search.page + 1 : 1;
  clearError(searchError);
  statusLine.textContent = append ? 'Loading more photos…' : `Searching for “${q}”…`;
  grid.setAttribute('aria-busy', 'true');
  moreButton.disabled = true;
  if (!append) {
    search.q = q;
    const url = new URL(location.href);
    url.searchParams.set('q', q);
    history.replaceState(null, '', url);
  }
  try {
    const params = new URLSearchParams({ q, page: String(page), per_page: String(PER_PAGE) });
    const res = await api('/api/search?' + params, { signal: ctrl.signal }, 'search');
    const body = await res.json();
    if (ctrl.signal.aborted) return;
    search.page = body.page || page;
    search.totalPages = body.total_pages || 0;
    search.provider = body.provider;
    if (!append) grid.replaceChildren();
    const first = grid.children.length;
    for (const photo of body.results || []) grid.append(card(photo, body.provider));
    statusLine.textContent = describeResults(body, q);
    moreButton.hidden = !(search.page < search.totalPages && (body.results || []).length > 0);
    if (append && grid.children[first]) grid.children[first].querySelector('.pick').focus();
  } catch (e) {
    if (e.name === 'AbortError') return;
    if (!append) grid.replaceChildren();
    statusLine.textContent = '';
    moreButton.hidden = true;
    showError(searchError, e);
  } finally {
    if (search.ctrl === ctrl) {
      search.ctrl = null;
      grid.removeAttribute('aria-busy');
      moreButton.disabled = false;
    }
  }
}

function describeResults(body, q) {
  const n = Number(body.total) || 0;
  if (n === 0) return `No photos found for “${q}”. Try another word, or upload your own image.`;
  const where = body.provider === 'unsplash' ? 'on Unsplash' : 'in the free photo library';
  const shown = grid.children.length;
  return `${n.toLocaleString()} photo${n === 1 ? '' : 's'} for “${q}” ${where}` +
    (shown < n ? ` (showing ${shown})` : '') + '. Choose one to remove its background.';
}

function altText(photo) {
  return photo.description || `Photo by ${photo.author && photo.author.name ? photo.author.name : 'an unknown author'}`;
}

function link(href, text) {
  return el('a', { href, target: '_blank', rel: 'noopener' }, text);
}

/** One search result: the photo as a button, and its attribution. */
function card(photo, provider) {
  const img = el('img', {
    src: photo.urls.small,
    srcset: photo.urls.thumb && photo.urls.small ? `${photo.urls.thumb} 200w, ${photo.urls.small} 400w` : null,
    sizes: '(max-width: 40rem) 50vw, 16rem',
    alt: altText(photo),
    loading: 'lazy',
    decoding: 'async',
    class: 'loading',
  });
  img.addEventListener('load', () => img.classList.remove('loading'), { once: true });
  img.addEventListener('error', () => { img.classList.add('failed'); tile.classList.add('broken'); }, { once: true });
  const tile = el('button', { type: 'button', class: 'pick', 'aria-describedby': `credit-${cssId(photo.id)}` },
    img, el('span', { class: 'pick-label' }, 'Remove background'));
  if (photo.color) tile.style.backgroundColor = photo.color;
  tile.addEventListener('click', () => choosePhoto(photo, provider, tile));

  const author = photo.author || {};
  const name = author.name || 'an unknown author';
  const credit = el('p', { class: 'credit', id: `credit-${cssId(photo.id)}` }, 'Photo by ');
  credit.append(author.url ? link(author.url, name) : name);
  if (provider === 'unsplash') {
    credit.append(' on ', link(photo.link || 'https://unsplash.com/?utm_source=cleanpng&utm_medium=referral', 'Unsplash'));
  } else {
    credit.append(' · ', el('a', { href: `/about.html#photo-${cssId(photo.id)}` }, 'licence'));
  }
  return el('li', { class: 'card' }, tile, credit);
}

function cssId(id) {
  return String(id).replace(/[^A-Za-z0-9_-]/g, '_');
}

form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  runSearch(input.value);
});

input.addEventListener('input', () => {
  clearTimeout(search.timer);
  const q = input.value.trim();
  if (q.length < 2 || q === search.q) return;
  search.timer = setTimeout(() => runSearch(q), DEBOUNCE_MS);
});

moreButton.addEventListener('click', () => runSearch(search.q, { append: true }));

// ---------------------------------------------------------------- removal ---

const job = { source: null, ctrl: null, timer: 0, urls: [] };

function choosePhoto(photo, provider, tile) {
  job.source = {
    kind: 'photo', photo,
    label: `${photo.description || 'Photo'} — by ${photo.author ? photo.author.name : 'unknown'}${provider === 'unsplash' ? ' on Unsplash' : ''}`,
    beforeUrl: photo.urls.regular || photo.urls.small,
    name: String(photo.id),
    tile,
  };
  openWork();
  startRemoval();
}

/** Checks a file in the page, then removes its background. Returns false if refused. */
function chooseFile(file) {
  clearError(uploadError);
  const problem = checkFile(file);
  if (problem) {
    showError(uploadError, new ApiError(problem));
    return false;
  }
  const url = URL.createObjectURL(file);
  job.urls.push(url);
  const base = (file.name || 'image').replace(/\.[A-Za-z0-9]{1,5}$/, '').replace(/[^\w.-]+/g, '-').slice(0, 60) || 'image';
  job.source = { kind: 'file', file, label: `Your image: ${file.name || 'pasted image'} (${formatBytes(file.size)})`, beforeUrl: url, name: base };
  openWork();
  startRemoval();
  return true;
}

function checkFile(file) {
  if (!file) return 'No file was chosen.';
  const ext = (file.name || '').split('.').pop().toLowerCase();
  const type = file.type || EXTENSIONS[ext] || '';
  if (!TYPES.includes(type)) {
    return `“${file.name || 'This file'}” is not a JPEG, PNG or WebP image${file.type ? ` (it is ${file.type})` : ''}. Please choose a photo in one of those formats.`;
  }
  if (file.size > MAX_BYTES) {
    return `“${file.name || 'This image'}” is ${formatBytes(file.size)}; the limit is 22 MB. Please choose a smaller or more compressed copy.`;
  }
  if (file.size === 0) return `“${file.name || 'This file'}” is empty.`;
  return '';
}

function formatBytes(n) {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  if (n >= 1024) return `${Math.round(n / 1024)} KB`;
  return `${n} bytes`;
}

function openWork() {
  work.hidden = false;
  $('work-source').textContent = job.source.label;
  work.scrollIntoView({ behavior: matchMedia('(prefers-reduced-motion: reduce)').matches ? 'auto' : 'smooth', block: 'start' });
  $('work-title').focus({ preventScroll: true });
}

function options() {
  const data = new FormData(optionsForm);
  const opts = { size: data.get('size') || 'preview', crop: $('crop').checked ? 'true' : 'false' };
  if (data.get('bg') === 'color') opts.bg_color = $('bg-color').value.replace('#', '').toLowerCase();
  return opts;
}

async function startRemoval() {
  if (!job.source) return;
  if (job.ctrl) job.ctrl.abort();
  const ctrl = new AbortController();
  job.ctrl = ctrl;
  const source = job.source;
  const opts = options();
  clearError(workError);
  result.hidden = true;
  warning.hidden = true;
  showProgress(true);

  let body;
  let headers = {};
  if (source.kind === 'photo') {
    body = new URLSearchParams({ photo_id: source.photo.id, ...opts });
    headers = { 'Content-Type': 'application/x-www-form-urlencoded' };
  } else {
    body = new FormData();
    body.append('image_file', source.file, source.file.name || 'image');
    for (const [k, v] of Object.entries(opts)) body.append(k, v);
  }
  try {
    const res = await api('/api/remove', { method: 'POST', body, headers, signal: ctrl.signal },
      source.kind === 'photo' ? 'photo' : 'remove');
    const blob = await res.blob();
    if (ctrl.signal.aborted || job.source !== source) return;
    showResult(res, blob, source, opts);
  } catch (e) {
    if (job.ctrl !== ctrl) return; // replaced by a newer run
    if (e.name === 'AbortError') {
      showError(workError, new ApiError('Cancelled. Change an option or choose another photo to try again.'));
      workError.classList.add('quiet');
    } else {
      workError.classList.remove('quiet');
      showError(workError, e.name === 'ApiError' ? e
        : new ApiError('Something went wrong while reading the result. Please try again.'));
    }
  } finally {
    if (job.ctrl === ctrl) {
      job.ctrl = null;
      showProgress(false);
    }
  }
}

function showProgress(on) {
  clearInterval(job.timer);
  progress.hidden = !on;
  work.setAttribute('aria-busy', on ? 'true' : 'false');
  if (!on) return;
  const t0 = performance.now();
  elapsed.textContent = '0 s';
  job.timer = setInterval(() => {
    elapsed.textContent = `${Math.floor((performance.now() - t0) / 1000)} s`;
  }, 250);
}

function filenameFrom(res, fallback) {
  const cd = res.headers.get('Content-Disposition') || '';
  let m = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(cd);
  let name = '';
  if (m) {
    try { name = decodeURIComponent(m[1].trim()); } catch { name = ''; }
  }
  if (!name) {
    m = /filename\s*=\s*"([^"]*)"/i.exec(cd) || /filename\s*=\s*([^;\s]+)/i.exec(cd);
    if (m) name = m[1];
  }
  name = name.replace(/[\\/:*?"<>|\u0000-\u001f]+/g, '-').trim();
  return name || fallback;
}

function showResult(res, blob, source, opts) {
  for (const u of job.urls.splice(0)) if (u !== source.beforeUrl) URL.revokeObjectURL(u);
  if (source.kind === 'file') job.urls.push(source.beforeUrl);
  const url = URL.createObjectURL(blob);
  job.urls.push(url);

  const w = Number(res.headers.get('X-Width')) || 0;
  const h = Number(res.headers.get('X-Height')) || 0;
  const cropped = opts.crop === 'true';
  after.src = url;
  after.alt = `Result without background: ${source.kind === 'photo' ? altText(source.photo) : 'your image'}`;
  if (cropped) before.removeAttribute('src');
  else before.src = source.beforeUrl;
  before.alt = cropped ? '' : `Original: ${source.kind === 'photo' ? altText(source.photo) : 'your image'}`;
  before.hidden = cropped;
  compare.classList.toggle('no-compare', cropped);
  sliderLabel.hidden = cropped;
  if (w && h) fitStage(w, h);
  else after.addEventListener('load', () => fitStage(after.naturalWidth, after.naturalHeight), { once: true });
  setSplit(cropped ? 0 : Number(slider.value));

  const ext = blob.type === 'image/webp' ? 'webp' : 'png';
  download.href = url;
  download.download = filenameFrom(res, `${source.name}-cleanpng.${ext}`);
  download.textContent = `Download ${ext.toUpperCase()}`;

  const engine = { local: 'the built-in engine on this server', removebg: 'remove.bg', rembg: 'a rembg server' }[res.headers.get('X-Engine')] || '';
  $('result-meta').textContent = [w && h ? `${w} × ${h} px` : '', formatBytes(blob.size), engine ? `background removed by ${engine}` : ''].filter(Boolean).join(' · ');
  $('result-caption').textContent = cropped
    ? 'Cropped to the subject. The checkerboard shows where the image is transparent.'
    : 'Drag the slider to compare before and after. The checkerboard shows where the image is transparent.';

  const warn = (res.headers.get('X-Cutout-Warning') || '').split(',').map((w) => w.trim()).filter(Boolean);
  if (warn.length) {
    warning.textContent = 'Note: ' + warn.map((w) => WARNINGS[w] || `the engine reports “${w.replace(/_/g, ' ')}”.`).join(' ');
    warning.hidden = false;
  }
  result.hidden = false;
  if (source.tile) source.tile.classList.add('done');
}

/** Sizes the comparison to the image: full width, but never taller than 70% of the window. */
function fitStage(w, h) {
  if (!(w > 0 && h > 0)) return;
  stage.style.aspectRatio = `${w} / ${h}`;
  stage.style.width = `min(100%, calc(70vh * ${(w / h).toFixed(4)}))`;
}

function setSplit(v) {
  stage.style.setProperty('--split', `${v}%`);
}

slider.addEventListener('input', () => setSplit(Number(slider.value)));

$('cancel').addEventListener('click', () => { if (job.ctrl) job.ctrl.abort(); });

$('close').addEventListener('click', () => {
  if (job.ctrl) job.ctrl.abort();
  const tile = job.source && job.source.tile;
  job.source = null;
  work.hidden = true;
  clearError(workError);
  (tile && tile.isConnected ? tile : input).focus();
});

// Options apply at once to the current image.
let optTimer = 0;
optionsForm.addEventListener('change', (ev) => {
  if (ev.target.id === 'bg-color') optionsForm.elements.bg.value = 'color';
  clearTimeout(optTimer);
  optTimer = setTimeout(startRemoval, 150);
});
optionsForm.addEventListener('submit', (ev) => ev.preventDefault());

// ----------------------------------------------------------------- upload ---

fileInput.addEventListener('change', () => {
  const f = fileInput.files && fileInput.files[0];
  if (f) chooseFile(f);
  fileInput.value = '';
});

let dragDepth = 0;
document.addEventListener('dragenter', (ev) => {
  if (!hasFiles(ev)) return;
  dragDepth += 1;
  drop.classList.add('dragging');
});
document.addEventListener('dragleave', () => {
  dragDepth = Math.max(0, dragDepth - 1);
  if (!dragDepth) drop.classList.remove('dragging');
});
document.addEventListener('dragover', (ev) => {
  if (hasFiles(ev)) ev.preventDefault();
});
document.addEventListener('drop', (ev) => {
  if (!hasFiles(ev)) return;
  ev.preventDefault();
  dragDepth = 0;
  drop.classList.remove('dragging');
  const f = ev.dataTransfer.files[0];
  if (f) chooseFile(f);
});

function hasFiles(ev) {
  return ev.dataTransfer && Array.from(ev.dataTransfer.types || []).includes('Files');
}

document.addEventListener('paste', (ev) => {
  const items = ev.clipboardData ? Array.from(ev.clipboardData.items) : [];
  const item = items.find((i) => i.kind === 'file');
  if (!item) return; // ordinary text paste, e.g. into the search box
  ev.preventDefault();
  const f = item.getAsFile();
  if (f) chooseFile(f.name ? f : new File([f], 'pasted-image', { type: f.type }));
});

// ------------------------------------------------------------------ start ---

const initial = new URLSearchParams(location.search).get('q');
if (initial) {
  input.value = initial;
  runSearch(initial);
} else {
  statusLine.textContent = '';
  const tries = ['cat', 'coffee', 'fruit', 'flower', 'butterfly'];
  const p = el('p', { class: 'suggest' }, 'Try: ');
  tries.forEach((t, i) => {
    p.append(el('button', { type: 'button', class: 'chip', onclick: () => { input.value = t; p.remove(); input.focus(); runSearch(t); } }, t));
    if (i < tries.length - 1) p.append(' ');
  });
  statusLine.after(p);
  form.addEventListener('submit', () => p.remove(), { once: true });
  input.addEventListener('input', () => p.remove(), { once: true });
}
