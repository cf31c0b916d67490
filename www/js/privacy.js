// Privacy page: says which of the described setups this server runs now.
import { el, health } from './common.js';

const SEARCH = {
  local: ['the built-in photo library', 'nothing about your searches leaves this server'],
  unsplash: ['Unsplash', 'your search words go to Unsplash, and your browser loads the photos from Unsplash'],
};
const ENGINE = {
  local: ['the built-in engine', 'your images never leave this server'],
  removebg: ['remove.bg (or a compatible service)', 'the images you process are sent there'],
  rembg: ['a rembg server run by the operator', 'the images you process are sent there'],
};

async function main() {
  const box = document.getElementById('running');
  const h = await health();
  if (!h || !SEARCH[h.search_provider] || !ENGINE[h.remove_engine]) {
    box.replaceChildren(el('p', {},
      'The server could not tell which setup it runs right now, so every possible setup is described below.'));
    return;
  }
  const [sName, sWhat] = SEARCH[h.search_provider];
  const [eName, eWhat] = ENGINE[h.remove_engine];
  box.replaceChildren(
    el('p', {}, el('strong', {}, 'On this server right now: '),
      'photos are searched in ', el('strong', {}, sName), ` (${sWhat}), and backgrounds are removed by `,
      el('strong', {}, eName), ` (${eWhat}).`));
  box.dataset.search = h.search_provider;
  box.dataset.engine = h.remove_engine;
  for (const heading of document.querySelectorAll('[data-when]')) {
    const [kind, name] = heading.dataset.when.split(':');
    const active = (kind === 'search' ? h.search_provider : h.remove_engine) === name;
    heading.append(' ', el('span', { class: active ? 'tag on' : 'tag off' },
      active ? '(in use on this server)' : '(not used on this server)'));
  }
}

main();
