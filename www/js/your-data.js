// "Your data": shows GET /api/privacy, erases with DELETE /api/privacy.
// Entries are rendered generically, field by field, so new fields simply appear.
import { el, api, showError, clearError, formatDate } from './common.js';

const $ = (id) => document.getElementById(id);
const LABELS = { access: 'Access log', search: 'Search log', error: 'Error log' };
const ORDER = ['search', 'error', 'access'];
const FIELD_LABELS = { time: 'Time', deletes_at: 'Deletes itself' };
const MAX_SHOWN = 200;

let total = 0;

function humanPeriod(v, seconds) {
  const s = Number(seconds);
  if (Number.isFinite(s) && s > 0) {
    if (s % 86400 === 0) return `${s / 86400} day${s === 86400 ? '' : 's'}`;
    if (s % 3600 === 0) return `${s / 3600} hour${s === 3600 ? '' : 's'}`;
    if (s % 60 === 0) return `${s / 60} minute${s === 60 ? '' : 's'}`;
    return `${s} seconds`;
  }
  const m = /^(\d+)([smhd])$/.exec(String(v || ''));
  if (!m) return v ? String(v) : '—';
  const n = Number(m[1]);
  const unit = { s: 'second', m: 'minute', h: 'hour', d: 'day' }[m[2]];
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

function kinds(data) {
  const all = new Set([...ORDER, ...Object.keys(data.counts || {}), ...Object.keys(data.entries || {})]);
  return [...all].filter((k) => (data.counts && k in data.counts) || (data.entries && k in data.entries));
}

function valueCell(key, v) {
  if ((key === 'time' || key === 'deletes_at' || /_at$/.test(key)) && typeof v === 'string') {
    return el('td', {}, el('time', { datetime: v, title: v }, formatDate(v)));
  }
  if (v === null || v === undefined) return el('td', { class: 'muted' }, '—');
  if (typeof v === 'object') return el('td', {}, el('code', {}, JSON.stringify(v)));
  return el('td', {}, String(v));
}

function fieldLabel(k) {
  const t = k.replace(/_/g, ' ').replace(/\bms\b/, '(ms)');
  return t.charAt(0).toUpperCase() + t.slice(1);
}

function entryTable(entry) {
  const tbody = el('tbody');
  const keys = Object.keys(entry);
  keys.sort((a, b) => (a === 'time' ? -1 : b === 'time' ? 1 : a === 'deletes_at' ? -1 : b === 'deletes_at' ? 1 : 0));
  for (const k of keys) {
    tbody.append(el('tr', {}, el('th', { scope: 'row' }, FIELD_LABELS[k] || fieldLabel(k)), valueCell(k, entry[k])));
  }
  return el('div', { class: 'entry' }, el('table', {}, tbody));
}

function render(data) {
  total = 0;
  $('who').replaceChildren('Entries kept about the address ', el('strong', {}, data.address || 'unknown'), ':');
  const rows = $('summary-rows');
  const list = $('entry-list');
  rows.replaceChildren();
  list.replaceChildren();
  const retention = data.retention || {};
  for (const kind of kinds(data)) {
    const entries = Array.isArray(data.entries && data.entries[kind]) ? data.entries[kind] : [];
    const count = Number.isFinite(Number(data.counts && data.counts[kind])) ? Number(data.counts[kind]) : entries.length;
    total += count;
    const label = LABELS[kind] || `${kind} log`;
    rows.append(el('tr', { 'data-kind': kind }, el('td', {}, label), el('td', {}, String(count)),
      el('td', {}, humanPeriod(retention[kind], retention[`${kind}_seconds`]))));
    const details = el('details', { 'data-kind': kind, open: entries.length > 0 && entries.length <= 5 },
      el('summary', {}, `${label}: ${count} entr${count === 1 ? 'y' : 'ies'}`));
    if (!entries.length) details.append(el('p', { class: 'entry muted' }, 'Nothing kept.'));
    for (const entry of entries.slice(0, MAX_SHOWN)) details.append(entryTable(entry && typeof entry === 'object' ? entry : { value: entry }));
    if (entries.length > MAX_SHOWN) details.append(el('p', { class: 'entry muted' }, `…and ${entries.length - MAX_SHOWN} more, not shown here.`));
    list.append(details);
  }
  $('note').textContent = data.note || '';
  $('summary').hidden = false;
  $('entries').hidden = false;
  $('erase').disabled = total === 0;
}

async function load() {
  clearError($('error'));
  $('refresh').disabled = true;
  try {
    const res = await api('/api/privacy', { headers: { Accept: 'application/json' }, cache: 'no-store' }, 'privacy');
    render(await res.json());
  } catch (e) {
    $('who').textContent = 'Your data could not be loaded.';
    showError($('error'), e, { onReady: load });
  } finally {
    $('refresh').disabled = false;
  }
}

async function erase() {
  $('confirm').hidden = true;
  clearError($('error'));
  $('erase').disabled = true;
  try {
    const res = await api('/api/privacy', { method: 'DELETE' }, 'privacy');
    const body = await res.json();
    const erased = body.erased || {};
    const parts = Object.keys(erased).map((k) => `${erased[k]} ${(LABELS[k] || k).toLowerCase()} entr${erased[k] === 1 ? 'y' : 'ies'}`);
    const done = $('done');
    done.replaceChildren(el('p', {}, el('strong', {}, 'Erased: '), parts.length ? parts.join(', ') + '.' : 'nothing was kept.'));
    if (body.note) done.append(el('p', { class: 'muted' }, body.note));
    done.hidden = false;
    await load();
  } catch (e) {
    $('erase').disabled = false;
    showError($('error'), e);
  }
}

$('refresh').addEventListener('click', () => { $('done').hidden = true; load(); });
$('erase').addEventListener('click', () => {
  $('confirm-text').textContent = `Erase all ${total} log entr${total === 1 ? 'y' : 'ies'} about this address? This cannot be undone.`;
  $('confirm').hidden = false;
  $('erase-yes').focus();
});
$('erase-no').addEventListener('click', () => { $('confirm').hidden = true; $('erase').focus(); });
$('erase-yes').addEventListener('click', erase);

load();
