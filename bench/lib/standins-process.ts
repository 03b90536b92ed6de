/**
 * The stand-ins, each in its own child process (bench/standin-host.ts), seen from the bench: start
 * them with a latency and an allowed concurrency, read the Criminal IP stand-in's counts, create
 * OpenCTI works.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { StandInStats } from '../../lib/standins/criminalip';

const ROOT = path.resolve(__dirname, '..', '..');

export type HostRequest = { id: number } & (
  | { op: 'start-criminalip'; latencyMs: number; concurrency: number }
  | { op: 'start-opencti'; latencyMs: number }
  | { op: 'criminalip-stats' }
  | { op: 'create-works'; count: number; connectorId: string }
  | { op: 'cpu' }
  | { op: 'stop' }
);

export type HostReply = { id: number; result?: unknown; error?: string };

type Request = HostRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export interface StandInUrls {
  criminalIpUrl: string;
  criminalIpKey: string;
  openCtiUrl: string;
  openCtiToken: string;
}

/** One child process and its request/answer channel. */
class Host {
  private readonly child: ChildProcess;
  private next = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(readonly name: string) {
    this.child = fork(path.join(ROOT, 'bin', 'run-ts.cjs'), [path.join(ROOT, 'bench', 'standin-host.ts')], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (reply: HostReply) => {
      const waiter = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (reply.error !== undefined) waiter?.reject(new Error(`${this.name} stand-in host: ${reply.error}`));
      else waiter?.resolve(reply.result);
    });
    this.child.on('exit', (code) => {
      for (const waiter of this.pending.values())
        waiter.reject(new Error(`${this.name} stand-in host exited (${code})`));
      this.pending.clear();
    });
  }

  ask(request: Request): Promise<unknown> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ ...request, id });
    });
  }

  async close(): Promise<void> {
    if (!this.child.connected) return;
    await this.ask({ op: 'stop' }).catch(() => undefined);
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.disconnect();
    await exited;
  }
}

export class StandInsProcess {
  private readonly criminalIp = new Host('Criminal IP');
  private readonly openCti = new Host('OpenCTI');

  /** (Re)starts both stand-ins: Criminal IP with its latency and allowed concurrency, OpenCTI with its latency. */
  async start(
    criminalIp: { latencyMs: number; concurrency: number },
    openCtiLatencyMs: number,
  ): Promise<StandInUrls> {
    type Started = { url: string; secret: string };
    const [cip, octi] = (await Promise.all([
      this.criminalIp.ask({ op: 'start-criminalip', ...criminalIp }),
      this.openCti.ask({ op: 'start-opencti', latencyMs: openCtiLatencyMs }),
    ])) as [Started, Started];
    return {
      criminalIpUrl: cip.url,
      criminalIpKey: cip.secret,
      openCtiUrl: octi.url,
      openCtiToken: octi.secret,
    };
  }

  criminalIpStats(): Promise<StandInStats> {
    return this.criminalIp.ask({ op: 'criminalip-stats' }) as Promise<StandInStats>;
  }

  createWorks(count: number, connectorId: string): Promise<string[]> {
    return this.openCti.ask({ op: 'create-works', count, connectorId }) as Promise<string[]>;
  }

  /** CPU time (user + system) both stand-in processes have used so far, in ms. */
  async cpuMs(): Promise<number> {
    const used = (await Promise.all([
      this.criminalIp.ask({ op: 'cpu' }),
      this.openCti.ask({ op: 'cpu' }),
    ])) as number[];
    return used.reduce((a, b) => a + b, 0);
  }

  /** Stops the stand-ins (the processes stay for the next start). */
  async stopStandIns(): Promise<void> {
    await Promise.all([this.criminalIp.ask({ op: 'stop' }), this.openCti.ask({ op: 'stop' })]);
  }

  /** Stops the stand-ins and ends both processes. */
  async close(): Promise<void> {
    await Promise.all([this.criminalIp.close(), this.openCti.close()]);
  }
}
