import { createBlobCheckpointAnchor } from '../../src/adapters/storage/blob-checkpoint-anchor';
import { InMemoryCheckpointAnchor, InMemoryCheckpointStore } from '../fakes/in-memory-checkpoints';
import { createInMemoryStorage } from '../fakes/in-memory-storage';
import { useAzurite } from '../support/azurite-fixture';
import { describeCheckpointContract } from './checkpoints.contract';

describeCheckpointContract('in memory', () => {
  const storage = createInMemoryStorage();
  return Promise.resolve({
    checkpoints: new InMemoryCheckpointStore(storage.data),
    anchor: new InMemoryCheckpointAnchor(),
    outbox: storage.outbox,
  });
});

describe('Checkpoint adapters on Azurite (tables and blobs)', () => {
  const azurite = useAzurite();
  describeCheckpointContract('table storage + append blob', async () => {
    const storage = await azurite.newStorage();
    const anchor = createBlobCheckpointAnchor({
      connectionString: azurite.connectionString,
      container: `${storage.prefix}anchors`,
    });
    await anchor.ensureContainer();
    return { checkpoints: storage.checkpoints, anchor, outbox: storage.outbox };
  });
});
