// @ts-check
/**
 * Who is using the tab. In Teams: teams-js SSO (`getAuthToken`), the token Cabinet's API validates.
 * Outside Teams, in the sandbox only: a sandbox person picked on the page, with a token the sandbox
 * authority signs with the same claims Entra would.
 */

const SANDBOX_ROOT = new URL('../api/tab/sandbox/', document.baseURI);
const PERSON_KEY = 'cabinet.sandbox.person';
const TOKEN_KEY = 'cabinet.sandbox.token';

/**
 * @typedef {{
 *   mode: 'teams' | 'sandbox',
 *   getToken: (refresh: boolean) => Promise<string>,
 *   deepLink?: string,
 *   signOut?: () => void,
 * }} Session
 * @typedef {{ key: string, name: string, description: string }} SandboxPerson
 */

/** Teams hosts tabs in an iframe (web, desktop) or a webview with a native bridge (mobile). */
export function inTeams() {
  return window.parent !== window.self || 'nativeInterface' in window;
}

/**
 * Signs in through Teams and follows its theme.
 * @param {(theme: string) => void} onTheme
 * @returns {Promise<Session>}
 */
export async function teamsSession(onTheme) {
  await loadScript(new URL('vendor/teams-js.min.js', document.baseURI));
  const teams = /** @type {{ microsoftTeams: typeof import('@microsoft/teams-js') }} */ (
    /** @type {unknown} */ (window)
  ).microsoftTeams;
  await teams.app.initialize();
  const context = await teams.app.getContext();
  onTheme(context.app.theme);
  teams.app.registerOnThemeChangeHandler(onTheme);
  const deepLink = context.page.subPageId;
  return {
    mode: 'teams',
    getToken: () => teams.authentication.getAuthToken(),
    ...(deepLink ? { deepLink } : {}),
  };
}

/**
 * Loads teams-js only inside Teams: it fetches its list of valid host origins as soon as it loads,
 * which outside Teams is a request for nothing.
 * @param {URL} src
 * @returns {Promise<void>}
 */
function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = src.href;
    script.onload = () => resolve();
    script.onerror = () => reject(new Error('The Teams library did not load. Reload the tab.'));
    document.head.append(script);
  });
}

/**
 * The sandbox people to pick from, or undefined when this Cabinet has no sandbox sign-in (production).
 * @returns {Promise<SandboxPerson[] | undefined>}
 */
export async function sandboxPeople() {
  const response = await fetch(new URL('people', SANDBOX_ROOT));
  if (response.status === 404) return undefined;
  if (!response.ok) throw new Error(`The sandbox sign-in answered ${response.status}.`);
  /** @type {unknown} */
  const answer = await response.json();
  const body = /** @type {{ people: SandboxPerson[] }} */ (answer);
  return body.people;
}

/** The sandbox person picked earlier in this browser tab, if any. */
export function rememberedSandboxPerson() {
  return sessionStorage.getItem(PERSON_KEY) ?? undefined;
}

/**
 * A session as `personKey`; the token is fetched on first use and again when Cabinet refuses it.
 * @param {string} personKey
 * @param {() => void} onSignOut
 * @returns {Session}
 */
export function sandboxSession(personKey, onSignOut) {
  sessionStorage.setItem(PERSON_KEY, personKey);
  return {
    mode: 'sandbox',
    getToken: async (refresh) => {
      const cached = sessionStorage.getItem(TOKEN_KEY);
      if (cached && !refresh) return cached;
      const response = await fetch(new URL('token', SANDBOX_ROOT), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ person: personKey }),
      });
      /** @type {unknown} */
      const answer = await response.json();
      const body = /** @type {{ token?: string, error?: { message?: string } }} */ (answer);
      if (!response.ok || !body.token)
        throw new Error(body.error?.message ?? 'The sandbox refused to sign you in.');
      sessionStorage.setItem(TOKEN_KEY, body.token);
      return body.token;
    },
    signOut: () => {
      sessionStorage.removeItem(PERSON_KEY);
      sessionStorage.removeItem(TOKEN_KEY);
      onSignOut();
    },
  };
}
