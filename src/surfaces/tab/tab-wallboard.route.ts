import type { Server } from 'restify';
import type { OpenRequestIndex } from '../../application/ports/open-request-index';
import type { UseCaseDeps } from '../../application/use-cases/context';
import { slaWallboard } from '../../application/use-cases/sla-wallboard';
import { apiRoute, unwrap, type Authenticate } from './tab-http';

export interface TabWallboardDeps {
  readonly useCases: UseCaseDeps;
  readonly openRequests: Pick<OpenRequestIndex, 'list' | 'outcomes'>;
  readonly authenticate: Authenticate;
  readonly log: (message: string) => void;
}

/** The SLA wallboard of the caller's clients (MSP staff only); the page polls it every 15 s. */
export function mountTabWallboardApi(server: Server, deps: TabWallboardDeps): void {
  server.get(
    '/api/tab/wallboard',
    apiRoute(deps.authenticate, deps.log, async ({ actor }) => ({
      body: unwrap(
        await slaWallboard({ ...deps.useCases, openRequests: deps.openRequests }, { actor }),
      ),
    })),
  );
}
