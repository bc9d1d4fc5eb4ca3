// @ts-check
/**
 * Builds DOM nodes from data: text is always set as text, never parsed as HTML, so nothing a
 * request or a directory holds can inject markup.
 */

/**
 * @typedef {string | number | Node | null | undefined | false} Child
 * @typedef {Child | readonly (Child | readonly (Child | readonly Child[])[])[]} Children nested up to three levels
 */

/**
 * An element with attributes, properties (`value`, `checked`, `disabled`), listeners (`onClick`) and children.
 * @param {string} tag
 * @param {Record<string, unknown>} [props]
 * @param {...Children} children
 * @returns {HTMLElement}
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2).toLowerCase(), /** @type {EventListener} */ (value));
    } else if (name === 'value' || name === 'checked' || name === 'disabled') {
      Object.assign(el, { [name]: value });
    } else if (value === false) {
      continue;
    } else if (value === true) {
      el.setAttribute(name, '');
    } else if (typeof value === 'string' || typeof value === 'number') {
      el.setAttribute(name, String(value));
    }
  }
  append(el, children);
  return el;
}

/**
 * @param {Element} parent
 * @param {readonly Children[]} children
 */
export function append(parent, children) {
  for (const child of /** @type {Child[]} */ (children.flat(Infinity))) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(typeof child === 'number' ? String(child) : child);
  }
}

/**
 * Replaces everything inside `parent`.
 * @param {Element} parent
 * @param {...Children} children
 */
export function replace(parent, ...children) {
  parent.replaceChildren();
  append(parent, children);
}

/** A short local date and time, e.g. "23 Nov, 09:41". @param {string | undefined} iso */
export function when(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, {
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
  });
}

/** Tells screen readers about something that changed without moving focus. @param {string} text */
export function announce(text) {
  const region = document.getElementById('announcer');
  if (region) region.textContent = text;
}

/**
 * A payload or prior-state value for people: lists joined, yes/no for flags, a dash for nothing.
 * @param {unknown} value
 * @returns {string}
 */
export function display(value) {
  if (Array.isArray(value)) return value.length > 0 ? value.map(display).join(', ') : 'none';
  if (typeof value === 'boolean') return value ? 'Yes' : 'No';
  if (value === null || value === undefined || value === '') return '—';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}
