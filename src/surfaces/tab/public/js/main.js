// @ts-check
import { ApiError, createApi } from './api.js';
import {
  inTeams,
  rememberedSandboxPerson,
  sandboxPeople,
  sandboxSession,
  teamsSession,
} from './auth.js';
import { renderApprovals } from './approvals.js';
import { renderCalendar } from './calendar.js';
import { renderDelegations } from './delegations.js';
import { renderDeliveries } from './deliveries.js';
import { renderDetail } from './detail.js';
import { h, replace } from './dom.js';
import { renderQueue } from './queue.js';
import { renderSettings } from './settings.js';
import { renderSummary } from './summary.js';
import { renderChangeLog } from './changelog.js';
import { renderEvidence } from './evidence.js';
import { renderTemplates } from './templates.js';
import { renderWallboard } from './wallboard.js';

/**
 * The Cabinet tab: signs in (Teams SSO, or a sandbox person outside Teams), then shows the queue
 * or, with `?request=CONTOSO-12` (or a Teams deep link's sub-page), that request.
 * @typedef {import('./api.js').Api} Api
 * @typedef {import('./auth.js').Session} Session
 */

const main = /** @type {HTMLElement} */ (document.getElementById('main'));
const who = /** @type {HTMLElement} */ (document.getElementById('who'));

/** Bumped on every navigation, so a slow answer for a page already left is dropped. */
let navigation = 0;

/** @param {string} theme */
function setTheme(theme) {
  document.documentElement.dataset.theme =
    theme === 'dark' || theme === 'contrast' ? theme : 'default';
}

/** @returns {Promise<Session | undefined>} */
async function signIn() {
  if (inTeams()) return teamsSession(setTheme);
  const people = await sandboxPeople();
  if (!people) {
    replace(
      main,
      h('h1', { id: 'page-title' }, 'Open Cabinet in Microsoft Teams'),
      h(
        'p',
        {},
        'This page signs you in through Teams. Open the Cabinet app in Teams and choose its Requests tab.',
      ),
    );
    return undefined;
  }
  const remembered = rememberedSandboxPerson();
  /** @type {string} */
  const key =
    remembered && people.some((p) => p.key === remembered)
      ? remembered
      : await new Promise((/** @type {(key: string) => void} */ resolve) => {
          replace(
            main,
            h('h1', { id: 'page-title', tabindex: '-1' }, 'Sign in to the Cabinet sandbox'),
            h(
              'p',
              {},
              'Outside Teams, the sandbox lets you pick who you are. The sandbox signs a token for that person, and Cabinet checks it exactly as it checks a Teams sign-in.',
            ),
            h(
              'ul',
              { class: 'people' },
              people.map((p) =>
                h(
                  'li',
                  {},
                  h(
                    'button',
                    {
                      type: 'button',
                      class: 'person',
                      'data-person': p.key,
                      onClick: () => resolve(p.key),
                    },
                    h('strong', {}, p.name),
                    h('span', {}, p.description),
                  ),
                ),
              ),
            ),
          );
          /** @type {HTMLElement | null} */ (main.querySelector('h1'))?.focus();
        });
  return sandboxSession(key, () => {
    location.href = location.pathname;
  });
}

/**
 * @param {Api} api
 * @param {Session} session
 */
async function showWho(api, session) {
  try {
    const me = /** @type {import('./types.js').Me} */ (await api.get('me'));
    // Only MSP leads have parked deliveries to see; the API refuses everyone else anyway.
    const deliveriesLink = document.getElementById('nav-deliveries');
    if (deliveriesLink) deliveriesLink.hidden = !me.clients.some((c) => c.roles.includes('lead'));
    replace(
      who,
      `Signed in as ${me.name}`,
      session.signOut
        ? h('button', { type: 'button', class: 'link', onClick: session.signOut }, 'Switch person')
        : null,
    );
  } catch {
    replace(who);
  }
}

/** @param {unknown} error */
function errorView(error) {
  const message = error instanceof Error ? error.message : String(error);
  const reference =
    error instanceof ApiError && error.requestId && error.status >= 500
      ? h('p', { class: 'hint' }, `Reference: ${error.requestId}`)
      : null;
  return [
    h(
      'h1',
      { id: 'page-title', tabindex: '-1' },
      error instanceof ApiError && error.status === 404 ? 'Not found' : 'Something went wrong',
    ),
    h('p', { class: 'alert', role: 'alert' }, message),
    reference,
    h('p', {}, h('a', { href: location.pathname }, 'Back to all requests')),
  ];
}

/** @param {Api} api */
function route(api) {
  const generation = ++navigation;
  const isCurrent = () => generation === navigation;
  const params = new URLSearchParams(location.search);
  const requestId = params.get('request');
  const go = (/** @type {string} */ url) => {
    history.pushState(null, '', url);
    route(api);
  };
  replace(main, h('p', { class: 'muted', role: 'status' }, 'Loading…'));
  if (params.get('page') === 'approvals') {
    renderApprovals(main, api, { isCurrent }).catch((/** @type {unknown} */ error) => {
      if (isCurrent()) replace(main, ...errorView(error));
    });
    return;
  }
  if (params.get('page') === 'templates' || params.get('page') === 'settings') {
    (params.get('page') === 'templates'
      ? renderTemplates(main, api, { isCurrent })
      : renderSettings(main, api, params.get('client') ?? '', { isCurrent })
    ).catch((/** @type {unknown} */ error) => {
      if (isCurrent()) replace(main, ...errorView(error));
    });
    return;
  }
  // `report` is where the monthly report card links: the same page, the report at its top.
  if (params.get('page') === 'changelog' || params.get('page') === 'report') {
    renderChangeLog(
      main,
      api,
      { client: params.get('client') ?? '', month: params.get('month') ?? '' },
      {
        setState: (state) =>
          go(`?${new URLSearchParams({ page: 'changelog', ...state }).toString()}`),
        isCurrent,
      },
    ).catch((/** @type {unknown} */ error) => {
      if (isCurrent()) replace(main, ...errorView(error));
    });
    return;
  }
  if (params.get('page') === 'evidence') {
    renderEvidence(main, api, { isCurrent }).catch((/** @type {unknown} */ error) => {
      if (isCurrent()) replace(main, ...errorView(error));
    });
    return;
  }
  if (params.get('page') === 'summary') {
    renderSummary(
      main,
      api,
      { client: params.get('client') ?? '', month: params.get('month') ?? '' },
      {
        setState: (state) =>
          go(`?${new URLSearchParams({ page: 'summary', ...state }).toString()}`),
        isCurrent,
      },
    ).catch((/** @type {unknown} */ error) => {
      if (isCurrent()) replace(main, ...errorView(error));
    });
    return;
  }
  if (params.get('page') === 'wallboard') {
    renderWallboard(main, api, { isCurrent }).catch((/** @type {unknown} */ error) => {
      if (isCurrent()) replace(main, ...errorView(error));
    });
    return;
  }
  if (params.get('page') === 'deliveries') {
    renderDeliveries(main, api, { isCurrent }).catch((/** @type {unknown} */ error) => {
      if (isCurrent()) replace(main, ...errorView(error));
    });
    return;
  }
  if (params.get('page') === 'delegations') {
    renderDelegations(main, api, { isCurrent }).catch((/** @type {unknown} */ error) => {
      if (isCurrent()) replace(main, ...errorView(error));
    });
    return;
  }
  const render =
    params.get('page') === 'calendar'
      ? renderCalendar(
          main,
          api,
          {
            view: params.get('view') ?? '',
            date: params.get('date') ?? '',
            client: params.get('client') ?? '',
          },
          {
            setState: (state) =>
              go(`?${new URLSearchParams({ page: 'calendar', ...state }).toString()}`),
            isCurrent,
          },
        )
      : requestId
        ? renderDetail(main, api, requestId, { openQueue: () => go(location.pathname), isCurrent })
        : renderQueue(
            main,
            api,
            { filter: params.get('show') ?? 'open', client: params.get('client') ?? '' },
            {
              openRequest: (id) => go(`?request=${encodeURIComponent(id)}`),
              setQueueState: (state) =>
                go(
                  `?show=${encodeURIComponent(state.filter)}${state.client ? `&client=${encodeURIComponent(state.client)}` : ''}`,
                ),
              isCurrent,
            },
          );
  render.then(
    () => {
      if (isCurrent() && generation > 1)
        /** @type {HTMLElement | null} */ (document.getElementById('page-title'))?.focus();
    },
    (/** @type {unknown} */ error) => {
      if (isCurrent()) replace(main, ...errorView(error));
    },
  );
}

async function start() {
  if (!inTeams()) setTheme(matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'default');
  const session = await signIn();
  if (!session) return;
  const api = createApi(session.getToken);
  if (session.deepLink && !new URLSearchParams(location.search).has('request')) {
    history.replaceState(null, '', `?request=${encodeURIComponent(session.deepLink)}`);
  }
  window.addEventListener('popstate', () => route(api));
  void showWho(api, session);
  route(api);
}

start().catch((/** @type {unknown} */ error) => {
  replace(main, ...errorView(error));
});
