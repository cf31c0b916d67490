// Minimal search page: the full site is its own piece of work.
const form = document.getElementById('search');
const input = document.getElementById('q');
const list = document.getElementById('results');
const status = document.getElementById('status');

function el(tag, attrs = {}, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

async function search(q) {
  status.textContent = 'Searching…';
  list.replaceChildren();
  try {
    const res = await fetch('/api/search?' + new URLSearchParams({ q }));
    const body = await res.json();
    if (!res.ok) {
      status.textContent = body.error ? body.error.message : `Error ${res.status}`;
      return;
    }
    status.textContent = `${body.total} photos for “${body.query}”`;
    for (const p of body.results) {
      const li = el('li');
      const img = el('img', { src: p.urls.small, alt: p.description || '', loading: 'lazy' });
      if (p.color) img.style.backgroundColor = p.color;
      li.append(img);
      const credit = el('p');
      const who = p.author.url ? el('a', { href: p.author.url, rel: 'noopener' }, p.author.name)
                               : el('span', {}, p.author.name);
      credit.append('Photo by ', who);
      if (body.provider === 'unsplash') {
        credit.append(' on ', el('a', { href: p.link, rel: 'noopener' }, 'Unsplash'));
      }
      li.append(credit);
      list.append(li);
    }
  } catch (e) {
    status.textContent = 'The search failed: check your connection and try again.';
  }
}

form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const q = input.value.trim();
  if (q) search(q);
});
