/**
 * The tab's monthly report page for one month, e.g. `https://cabinet.example.com/tab/?page=report&month=2026-11`.
 * The page takes the client from the viewer's own sign-in, so the link names no tenant.
 */
export function tabReportUrl(baseUrl: string, month: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/tab/?page=report&month=${encodeURIComponent(month)}`;
}
