import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { APP_PACKAGE_DIR } from '../../../scripts/app-package';
import {
  REQUESTS_TAB_ENTITY_ID,
  tabRequestUrl,
  teamsRequestDeepLink,
} from '../../../src/surfaces/tab/tab-links';

describe('Tab links', () => {
  it('opens a request on the tab page by its id', () => {
    assert.equal(
      tabRequestUrl('http://127.0.0.1:3978/', 'CONTOSO-12'),
      'http://127.0.0.1:3978/tab/?request=CONTOSO-12',
    );
  });

  it('deep-links into the manifest’s Requests tab with the request as the sub-entity', () => {
    const link = new URL(
      teamsRequestDeepLink('3f1c2b7a-1111-4222-8333-444455556666', 'CONTOSO-12'),
    );
    const manifest = JSON.parse(readFileSync(join(APP_PACKAGE_DIR, 'manifest.json'), 'utf8')) as {
      staticTabs: { entityId: string }[];
    };

    assert.equal(link.origin, 'https://teams.microsoft.com');
    assert.equal(
      link.pathname,
      `/l/entity/3f1c2b7a-1111-4222-8333-444455556666/${REQUESTS_TAB_ENTITY_ID}`,
    );
    assert.deepEqual(JSON.parse(link.searchParams.get('context')!), { subEntityId: 'CONTOSO-12' });
    assert.ok(manifest.staticTabs.some((t) => t.entityId === REQUESTS_TAB_ENTITY_ID));
  });
});
