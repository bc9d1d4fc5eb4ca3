import assert from 'node:assert/strict';
import { odata } from '@azure/data-tables';
import { openTable } from '../../src/adapters/storage/table-connection';
import { newTenant } from '../contract/contract-support';
import { describeWebhookStorageContract } from '../contract/webhooks.contract';
import { useAzurite } from '../support/azurite-fixture';

describe('Table webhook keys and ledger on Azurite', () => {
  const azurite = useAzurite();
  describeWebhookStorageContract('Azure Table Storage', async () => {
    const storage = await azurite.newStorage();
    return {
      keys: storage.webhookKeys,
      ledger: storage.webhookLedger,
      requests: storage.requests,
      audit: storage.audit,
    };
  });

  it('stores secrets sealed with the client data key, and loses them with it', async () => {
    const storage = await azurite.newStorage();
    const tenant = newTenant();
    const { key, issued } = await storage.webhookKeys.create(tenant, new Date(), { tid: tenant, oid: 'cabinet-cli' });
    const table = openTable(azurite.connectionString, `${storage.prefix}data`);
    let raw = '';
    for await (const row of table.listEntities({
      queryOptions: { filter: odata`PartitionKey eq ${tenant}` },
    }))
      raw += JSON.stringify(row);
    assert.ok(raw.includes(issued.kid));
    assert.ok(!raw.includes(issued.secret.reveal()), 'the secret is never stored in clear');
    await storage.keyring.destroy(tenant);
    assert.deepEqual((await storage.webhookKeys.resolve(key.clientKey, new Date()))?.secrets, []);
  });
});
