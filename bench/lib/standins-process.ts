/**
 * The stand-ins in a child process (bench/standin-host.ts), seen from the bench: start them with a
 * latency and an allowed concurrency, read the Criminal IP stand-in's counts, create works.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { StandInStats } from '../../lib/standins/criminalip';

const ROOT = path.resolve(__dirname, '..', '..');

export type HostRequest = { id: number } & (
  | { op: 'start'; criminalIp: { latencyMs: number; concurrency: number }; openCtiLatencyMs: number }
  | { op: 'criminalIpStats' }
  | { op: 'createWorks'; count: number; connectorId: string }
  | { op: 'openCtiCounts' }
  | { op: 'stop' }
);

export type HostReply = { id: number; result?: unknown; error?: string };

type Op<K extends HostRequest['op']> = Omit<Extract<HostRequest, { op: K }>, 'id'>;

export interface StandInUrls {
  criminalIpUrl: string;
  criminalIpKey: string;
  openCtiUrl: string;
  openCtiToken: string;
}

export class StandInsProcess {
  private readonly child: ChildProcess;
  private next = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor() {
    this.child = fork(path.join(ROOT, 'bin', 'run-ts.cjs'), [path.join(ROOT, 'bench', 'standin-host.ts')], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (reply: HostReply) => {
      const waiter = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (reply.error !== undefined) waiter?.reject(new Error(`stand-in host: ${reply.error}`));
      else waiter?.resolve(reply.result);
    });
    this.child.on('exit', (code) => {
      for (const waiter of this.pending.values()) waiter.reject(new Error(`stand-in host exited (${code})`));
      this.pending.clear();
    });
  }

  private ask<K extends HostRequest['op']>(request: Op<K>): Promise<unknown> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.send({ ...request, id });
    });
  }

  start(criminalIp: { latencyMs: number; concurrency: number }, openCtiLatencyMs: number): Promise<StandInUrls> {
    return this.ask<'start'>({ op: 'start', criminalIp, openCtiLatencyMs }) as Promise<StandInUrls>;
  }

  criminalIpStats(): Promise<StandInStats> {
    return this.ask<'criminalIpStats'>({ op: 'criminalIpStats' }) as Promise<StandInStats>;
  }

  createWorks(count: number, connectorId: string): Promise<string[]> {
    return this.ask<'createWorks'>({ op: 'createWorks', count, connectorId }) as Promise<string[]>;
  }

  openCtiCounts(): Promise<{ requests: number; pushes: number }> {
    return this.ask<'openCtiCounts'>({ op: 'openCtiCounts' }) as Promise<{ requests: number; pushes: number }>;
  }

  /** Stops the stand-ins (the process stays for the next start). */
  async stopStandIns(): Promise<void> {
    await this.ask<'stop'>({ op: 'stop' });
  }

  /** Stops the stand-ins and ends the process. */
  async close(): Promise<void> {
    if (!this.child.connected) return;
    await this.stopStandIns().catch(() => undefined);
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.disconnect();
    await exited;
  }
}
