import { describePsaLinkStoreContract } from '../contract/psa-link-store.contract';
import { useAzurite } from '../support/azurite-fixture';

describe('Table PSA link store on Azurite', () => {
  const azurite = useAzurite();
  describePsaLinkStoreContract(
    'Azure Table Storage',
    async () => (await azurite.newStorage()).psaLinks,
  );
});
