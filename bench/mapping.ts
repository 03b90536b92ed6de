/**
 * 1. Mapping cost: what the product does with a Criminal IP answer body (parse it, map it to STIX,
 * assemble the bundle, serialise it) against the least any consumer of that body must do (parse
 * it and serialise it again), on the same body, timed interleaved in the same run.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../lib/config';
import type { Observable } from '../lib/jobs/types';
import { mapIntel } from '../lib/mapping';
import type { Intel } from '../lib/criminalip/intel';
import { PHISHING_URL } from '../lib/standins/criminalip';
import { BundleBuilder, generateId, type StixBundle } from '../lib/stix';
import { atMost, type Figure } from './lib/report';
import { formatBytes, formatMs, timePair, type PairOptions } from './lib/stats';
import { FIVE_MB, LARGE, syntheticIpReport } from './lib/synthetic';

const SECTION = '1. Mapping cost';
const FIXTURES = path.join(__dirname, 'fixtures');
const STANDIN_DATA = path.join(__dirname, '..', 'lib', 'standins', 'criminalip', 'data');
const NOW = new Date('2025-06-01T12:00:00.000Z');

export interface MappingCase {
  name: string;
  observable: Observable;
  /** The answer body as received. */
  body: string;
  /** The Intel the pipeline builds around the parsed body. */
  intelOf: (parsed: unknown) => Intel;
}

const ipIntel = (report: unknown): Intel => ({ kind: 'ip', report });
const domainIntel =
  (scanId: string) =>
  (report: unknown): Intel => ({ kind: 'domain', scanId, report });
const liteIntel =
  (scanId: string) =>
  (liteReport: unknown): Intel => ({ kind: 'domain', scanId, liteReport });

function fileCase(
  file: string,
  observable: Omit<Observable, 'markingRefs'>,
  intelOf: MappingCase['intelOf'],
): MappingCase {
  const body = fs.readFileSync(file, 'utf8');
  return { name: path.basename(file), observable: { ...observable, markingRefs: [] }, body, intelOf };
}

/** The public samples, the stand-in's recorded answers and the large synthetic reports. */
export function mappingCases(): MappingCase[] {
  const synthetic = (name: string, shape: typeof LARGE, ip: string): MappingCase => ({
    name,
    observable: { type: 'ipv4-addr', value: ip, markingRefs: [] },
    body: JSON.stringify(syntheticIpReport({ ip, ...shape })),
    intelOf: ipIntel,
  });
  return [
    fileCase(path.join(FIXTURES, 'asset_ip_report.json'), { type: 'ipv4-addr', value: '1.1.1.1' }, ipIntel),
    fileCase(
      path.join(STANDIN_DATA, 'ip-services-cves.json'),
      { type: 'ipv4-addr', value: '64.62.197.76' },
      ipIntel,
    ),
    fileCase(
      path.join(FIXTURES, 'domain_report_v1.json'),
      { type: 'domain-name', value: 'google.com' },
      domainIntel('14341560'),
    ),
    fileCase(
      path.join(STANDIN_DATA, 'domain-report-phishing.json'),
      { type: 'url', value: PHISHING_URL },
      domainIntel('25436128'),
    ),
    fileCase(
      path.join(FIXTURES, 'domain_lite_report.json'),
      { type: 'domain-name', value: 'www.naver.com' },
      liteIntel('0123456789abcdef0123456789abcdef'),
    ),
    synthetic('synthetic: 1,000 domains, 300 ports, 500 CVEs', LARGE, '45.33.32.156'),
    synthetic('synthetic: 5 MB body (port history)', FIVE_MB, '45.33.32.157'),
  ];
}

const settings = loadConfig({}, { criminalIp: false, opencti: false }).mapping;

/**
 * What the pipeline does with a parsed answer: map it, assemble the bundle, serialise it (as
 * pushBundle does). Parsing is not counted: the client parses every answer whatever follows.
 */
export function mapParsed(c: MappingCase, parsed: unknown): { bundle: StixBundle; text: string } {
  const result = mapIntel({
    observable: c.observable,
    intel: c.intelOf(parsed),
    settings,
    markingRefs: [],
    now: NOW,
  });
  const bundle = new BundleBuilder().add(...result.objects).build();
  return { bundle, text: JSON.stringify(bundle) };
}

/** The baseline: parse the body and serialise it again, the least any consumer of it does. */
function roundTrip(body: string): number {
  return JSON.stringify(JSON.parse(body)).length;
}

/**
 * The least any mapping to these objects must do: one OpenCTI-compatible id per object (RFC 8785
 * JSON hashed with UUID v5; here over the lightest input, the object's own id) and the bundle's
 * serialisation.
 */
function floorOf(bundle: StixBundle): () => number {
  return () => {
    let length = 0;
    for (const object of bundle.objects) length += generateId(object.type, { id: object.id }).length;
    return length + JSON.stringify(bundle).length;
  };
}

/** Section 1 (the runner awaits each section; this one measures synchronously). */
export function mappingCost(smoke: boolean): Promise<Figure[]> {
  return Promise.resolve().then(() => mappingFigures(smoke));
}

function mappingFigures(smoke: boolean): Figure[] {
  const options: PairOptions = smoke
    ? { runs: 3, warmupMs: 20, minRunMs: 15 }
    : { runs: 11, warmupMs: 300, minRunMs: 100 };
  const figures: Figure[] = [];
  for (const c of mappingCases()) {
    const parsed: unknown = JSON.parse(c.body);
    const once = mapParsed(c, parsed);
    if (once.bundle.objects.length <= 3) {
      throw new Error(`${c.name}: the mapping produced nothing of note: the case is broken`);
    }
    const timing = timePair(
      () => mapParsed(c, parsed).text.length,
      () => roundTrip(c.body),
      options,
    );
    const floor = timePair(floorOf(once.bundle), () => roundTrip(c.body), options);
    figures.push({
      section: SECTION,
      name: `${c.name} (${formatBytes(Buffer.byteLength(c.body))})`,
      value: timing.ratio,
      shown: `${timing.ratio.toFixed(2)}x`,
      goal: atMost(2, '≤ 2x'),
      detail:
        `map+bundle+stringify ${formatMs(timing.subjectMs)} vs parse+stringify ${formatMs(timing.baselineMs)}; ` +
        `${once.bundle.objects.length} objects, bundle ${formatBytes(Buffer.byteLength(once.text))}; ` +
        `floor (ids + bundle stringify) ${floor.ratio.toFixed(2)}x`,
    });
  }
  return figures;
}
