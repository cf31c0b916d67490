// About page: credits and licences of the local library, from /library/manifest.json.
import { el } from './common.js';

const status = document.getElementById('library-status');
const list = document.getElementById('credits-list');

function safeId(id) {
  return String(id).replace(/[^A-Za-z0-9_-]/g, '_');
}

function link(url, text) {
  return url ? el('a', { href: url, rel: 'noopener' }, text) : text;
}

async function main() {
  let manifest;
  try {
    const res = await fetch('/library/manifest.json');
    if (!res.ok) throw new Error(String(res.status));
    manifest = await res.json();
  } catch {
    status.textContent = 'This server has no local photo library, or its list of credits could not be loaded.';
    return;
  }
  const photos = Array.isArray(manifest.photos) ? manifest.photos : [];
  status.textContent = `${manifest.name || 'The library'} holds ${photos.length} photo${photos.length === 1 ? '' : 's'}, collected from free-licensed images shipped in Debian packages.`;
  for (const p of photos) {
    const author = p.author || {};
    const licence = p.licence || {};
    const source = p.source || {};
    const thumb = p.files && p.files.thumb ? `/library/${p.files.thumb}` : null;
    const text = el('div', {},
      el('p', {}, el('strong', {}, p.title || p.id)),
      el('p', {}, 'By ', link(author.url, author.name || 'unknown'), ' · Licence: ', link(licence.url, licence.name || 'see source')),
      source.package ? el('p', { class: 'muted' }, 'From the Debian package ', el('code', {}, source.package)) : null);
    const li = el('li', { id: `photo-${safeId(p.id)}` },
      thumb ? el('img', { src: thumb, alt: p.description || p.title || '', loading: 'lazy', width: 72, height: 54 }) : null, text);
    list.append(li);
  }
  if (location.hash) {
    const target = document.getElementById(location.hash.slice(1));
    if (target) target.scrollIntoView();
  }
}

main();
