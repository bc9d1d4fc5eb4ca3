/** The Teams app's static tab that shows requests (`staticTabs[].entityId` in appPackage/manifest.json). */
export const REQUESTS_TAB_ENTITY_ID = 'requests';

/**
 * The tab page for one request on Cabinet's own host, e.g. `https://cabinet.example.com/tab/?request=CONTOSO-12`:
 * what the sandbox's Open wizard button opens in a browser.
 */
export function tabRequestUrl(baseUrl: string, requestId: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/tab/?request=${encodeURIComponent(requestId)}`;
}

/**
 * A Teams deep link that opens the Requests tab of Cabinet's app on one request: Teams hands the
 * request id to the page as `page.subPageId`.
 * @param teamsAppId the Teams app id (the manifest's `id`), not the bot's
 */
export function teamsRequestDeepLink(teamsAppId: string, requestId: string): string {
  const context = encodeURIComponent(JSON.stringify({ subEntityId: requestId }));
  return `https://teams.microsoft.com/l/entity/${encodeURIComponent(teamsAppId)}/${REQUESTS_TAB_ENTITY_ID}?context=${context}`;
}
