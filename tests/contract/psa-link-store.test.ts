import { InMemoryPsaLinks } from '../fakes/in-memory-psa-links';
import { describePsaLinkStoreContract } from './psa-link-store.contract';

describePsaLinkStoreContract('in memory', () => Promise.resolve(new InMemoryPsaLinks()));
