import { resolve } from 'node:path';
import type { PsaConfig } from '../../config';
import type { PsaKind } from '../../domain/psa/psa';
import { startAutotaskSandbox, type RunningAutotaskSandbox } from './autotask-server';
import { startConnectWiseSandbox, type RunningConnectWiseSandbox } from './connectwise-server';
import { startHaloPsaSandbox, type RunningHaloPsaSandbox } from './halopsa-server';
import type { RunningPsaSandbox } from './types';

/** The three sandbox PSA servers `npm start` runs beside Cabinet. */
export interface RunningSandboxPsas {
  readonly halopsa: RunningHaloPsaSandbox;
  readonly connectwise: RunningConnectWiseSandbox;
  readonly autotask: RunningAutotaskSandbox;
  /** Cabinet's PSA connections pointing at them (what production reads from CABINET_<PSA>_*). */
  connections(pollIntervalMs: number): PsaConfig;
  /** Sends each PSA's webhooks to Cabinet's `/api/psa/<kind>` once Cabinet listens. */
  deliverWebhooksTo(cabinetUrl: string): void;
  all(): readonly RunningPsaSandbox[];
  stop(): Promise<void>;
}

/**
 * Starts a sandbox HaloPSA, ConnectWise PSA and Autotask on free loopback ports, each with the
 * sandbox clients as its companies; if one fails to start, those already started are stopped.
 * @param dataDir Where each keeps its tickets, notes and generated secrets (`<kind>.json`), so a
 * restarted sandbox still has the tickets Cabinet's persisted requests link to and still accepts
 * Cabinet's credentials; without it they keep everything in memory only.
 * @param log Their routine lines (webhook deliveries); without it those are dropped, but a state
 * file that cannot be written is still reported on stderr.
 */
export async function startSandboxPsas(
  dataDir?: string,
  log?: (line: string) => void,
): Promise<RunningSandboxPsas> {
  const stateFile = (kind: PsaKind): string | undefined =>
    dataDir === undefined ? undefined : resolve(dataDir, `${kind}.json`);
  const started: RunningPsaSandbox[] = [];
  try {
    const halopsa = await startHaloPsaSandbox({ log, stateFile: stateFile('halopsa') });
    started.push(halopsa);
    const connectwise = await startConnectWiseSandbox({
      log,
      stateFile: stateFile('connectwise'),
    });
    started.push(connectwise);
    const autotask = await startAutotaskSandbox({ log, stateFile: stateFile('autotask') });
    started.push(autotask);
    return {
      halopsa,
      connectwise,
      autotask,
      connections: (pollIntervalMs) => ({
        halopsa: {
          apiUrl: halopsa.url,
          authUrl: halopsa.authUrl,
          clientId: halopsa.clientId,
          clientSecret: halopsa.clientSecret,
          webhookSecret: halopsa.webhookSecret,
          webUrl: halopsa.webUrl,
        },
        connectwise: {
          siteUrl: connectwise.siteUrl,
          companyId: connectwise.companyId,
          publicKey: connectwise.publicKey,
          privateKey: connectwise.privateKey,
          clientId: connectwise.clientId,
          webUrl: connectwise.siteUrl,
        },
        autotask: {
          apiUrl: autotask.zoneUrl,
          username: autotask.username,
          secret: autotask.secret,
          integrationCode: autotask.integrationCode,
          webhookSecret: autotask.webhookSecret,
          webUrl: autotask.webUrl,
        },
        pollIntervalMs,
      }),
      deliverWebhooksTo: (cabinetUrl) => {
        const base = cabinetUrl.replace(/\/$/, '');
        for (const psa of started)
          psa.setWebhookTarget(`${base}/api/psa/${psa.kind satisfies PsaKind}`);
      },
      all: () => started,
      stop: () => Promise.all(started.map((psa) => psa.close())).then(() => undefined),
    };
  } catch (error) {
    await Promise.allSettled(started.map((psa) => psa.close()));
    throw error;
  }
}
