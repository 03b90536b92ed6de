/**
 * The fault-free minimum: how many Criminal IP calls each observable's lookup takes, to the end
 * of its scan, against a fresh stand-in with no faults. Measured, not assumed, so the suite
 * compares the faulty run with what the product itself needs when nothing goes wrong.
 */
import type { Config } from '../../../lib/config';
import {
  CriminalIpApi,
  CriminalIpClient,
  CriminalIpError,
  CriminalIpIntelSource,
  Semaphore,
  scanUntilDone,
} from '../../../lib/criminalip';
import { startCriminalIpStandIn, type StandInOptions } from '../../../lib/standins/criminalip';
import { ManualClock } from '../../helpers/manual-clock';
import type { Subject } from './workload';

export async function minimumCalls(
  config: Config,
  subjects: readonly Subject[],
  standIn: StandInOptions = {},
): Promise<Map<string, number>> {
  const clock = new ManualClock();
  const cip = await startCriminalIpStandIn({ now: () => clock.now(), scanProgress: [100], ...standIn });
  try {
    const settings = { ...config.criminalIp, apiUrl: cip.url, apiKey: cip.apiKey };
    const client = new CriminalIpClient(settings, { limiter: new Semaphore(1), sleep: async () => {} });
    const source = new CriminalIpIntelSource(new CriminalIpApi(client), settings, clock);
    const minimum = new Map<string, number>();
    for (const subject of subjects) {
      try {
        const result = await scanUntilDone(source, subject, { sleep: async () => {} });
        minimum.set(`${subject.type}:${subject.value}`, result.calls);
      } catch (error) {
        // A target refused before any call needs none; a scan that fails needs the calls made
        // up to its failure.
        if (!(error instanceof CriminalIpError) || error.retryable) throw error;
        if (error.kind !== 'invalid-target')
          minimum.set(`${subject.type}:${subject.value}`, error.calls ?? 0);
      }
    }
    return minimum;
  } finally {
    await cip.close();
  }
}
