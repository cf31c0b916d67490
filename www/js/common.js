// Shared helpers for every page: DOM building, API calls, readable errors.

/** Creates an element: el('a', {href: '/x', class: 'y'}, 'text', child, ...). */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

/** An error from the API (or the network) with a message meant for people. */
export class ApiError extends Error {
  constructor(message, { status = 0, code = '', retryAfter = null, detail = '' } = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
    this.detail = detail;
  }
}

function retryAfterSeconds(res) {
  const h = res.headers.get('Retry-After');
  if (!h) return null;
  if (/^\d+$/.test(h.trim())) return Number(h.trim());
  const when = Date.parse(h);
  return Number.isNaN(when) ? null : Math.max(0, Math.round((when - Date.now()) / 1000));
}

/** Turns a failed response into an ApiError whose message a visitor understands. */
export async function errorFromResponse(res, what = 'request') {
  let err = {};
  try {
    const body = await res.json();
    if (body && typeof body.error === 'object' && body.error) err = body.error;
  } catch { /* not JSON: fall back to the status */ }
  const code = err.code || '';
  const serverMsg = typeof err.message === 'string' ? err.message : '';
  const retryAfter = retryAfterSeconds(res);
  const s = res.status;
  let msg;
  if (s === 413 || code === 'payload_too_large') {
    msg = 'This file is too big: the server accepts images up to 22 MB. Try a smaller or more compressed copy.';
  } else if (s === 415 || code === 'unsupported_media_type') {
    msg = 'The server could not recognise this file as a JPEG, PNG or WebP image, whatever its name says. Please choose a photo in one of those formats.';
  } else if (s === 422) {
    msg = code === 'image_too_large'
      ? `This image is too large to process: ${serverMsg || 'at most 50 megapixels and 20,000 pixels per side'}.`
      : `The server could not use this image: ${serverMsg || 'it seems damaged or incomplete'}.`;
  } else if (s === 429 || code === 'rate_limited') {
    msg = `Too many ${what === 'search' ? 'searches' : 'requests'} from your address in a short time.`;
  } else if (s === 503 && code === 'upstream_quota') {
    msg = what === 'search'
      ? 'The photo provider’s allowance for this site is used up for now. Please try again later.'
      : 'The background-removal service’s allowance for this site is used up for now. Please try again later.';
  } else if (s === 504 || code === 'upstream_timeout') {
    msg = 'The service behind this site took too long to answer. Please try again.';
  } else if (s === 502 || code === 'upstream_error') {
    msg = 'The service behind this site answered with an error. Please try again in a moment.';
  } else if (s === 404 && what === 'photo') {
    msg = serverMsg || 'This photo could not be found any more.';
  } else if (s >= 500) {
    msg = `Something went wrong on the server (HTTP ${s}). Please try again.`;
  } else {
    msg = serverMsg || `The request failed (HTTP ${s}).`;
  }
  return new ApiError(msg, { status: s, code, retryAfter, detail: serverMsg });
}

/** fetch() that throws ApiError for network failures and non-2xx answers. */
export async function api(url, opts = {}, what = 'request') {
  let res;
  try {
    res = await fetch(url, opts);
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    throw new ApiError('Could not reach CleanPNG. Check your internet connection and try again.',
      { status: 0, code: 'network' });
  }
  if (!res.ok) throw await errorFromResponse(res, what);
  return res;
}

/**
 * Shows an error in `box` (a role=alert element). With a Retry-After, a live
 * countdown follows; onReady runs when it reaches zero.
 */
export function showError(box, err, { onReady } = {}) {
  stopCountdown(box);
  box.replaceChildren();
  box.hidden = false;
  box.append(el('p', { class: 'error-msg', text: err.message || String(err) }));
  const secs = err.retryAfter;
  if (Number.isFinite(secs) && secs > 0) {
    const p = el('p', { class: 'countdown' });
    box.append(p);
    let left = Math.ceil(secs);
    const tick = () => {
      if (left <= 0) {
        stopCountdown(box);
        p.textContent = 'You can try again now.';
        if (onReady) onReady();
        return;
      }
      p.textContent = `You can try again in ${left} second${left === 1 ? '' : 's'}.`;
      left -= 1;
    };
    tick();
    box.countdown = setInterval(tick, 1000);
  } else if (err.status === 429) {
    box.append(el('p', { class: 'countdown', text: 'Please wait a minute before trying again.' }));
  }
}

export function clearError(box) {
  stopCountdown(box);
  box.replaceChildren();
  box.hidden = true;
}

function stopCountdown(box) {
  if (box.countdown) clearInterval(box.countdown);
  box.countdown = null;
}

/** Reads GET /api/health; resolves to null when it cannot be read. */
export async function health() {
  try {
    const res = await fetch('/api/health');
    if (!res.ok) return null;
    return await res.json();
  } catch {
    return null;
  }
}

export function formatDate(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
