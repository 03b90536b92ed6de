/**
 * Criminal IP answers → the STIX 2.1 objects written back to OpenCTI for one observable.
 *
 * `mapIntel` is pure and total: the same input gives the same objects (ids are deterministic, times
 * come from `now`), and no response body, however malformed, makes it throw. What cannot be mapped
 * is left out and reported in `warnings`. The objects are self-contained: the observable, the
 * author, the TLP marking definitions referenced and every entity and relationship, so that a
 * bundle of them has no dangling reference.
 *
 * docs/mapping.md lists every field → object/property/relationship, with the score policy.
 */
import type { MappingSettings } from '../config';
import type { Observable } from '../jobs/types';
import type { Intel } from '../criminalip/intel';
import { ID_RULES_6_9, objectsUnderIdRules, type IdRules } from '../stix/id-rules';
import {
  CRIMINAL_IP_AUTHOR,
  ENTITY_TYPE_OF,
  equalityPattern,
  indicator,
  isStixId,
  isValidObservableValue,
  markingDefinition,
  observable as observableSco,
  observableId,
  tlpFromMarkingRefs,
  tlpMarkingId,
  type StixObject,
} from '../stix';
import { mapDomain } from './domain';
import { emptyFindings, type Findings } from './findings';
import { Graph } from './graph';
import { mapIp } from './ip';
import { renderSummary } from './markdown';
import { reemitObservable } from './reemit';

export interface MappingInput {
  observable: Observable;
  intel: Intel;
  settings: MappingSettings;
  /** Marking refs of the observable (its TLP and any other marking). */
  markingRefs: string[];
  now: Date;
  /**
   * The id formulas of the platform the objects are written to (platform-version.ts idRulesFor):
   * 7.x since 7.260416.0 computes Software ids differently, and an object under another id is a
   * duplicate there. Default: 6.9's, which the 7.x LTS shares.
   */
  idRules?: IdRules;
}

export interface MappingResult {
  objects: StixObject[];
  /** The id the observable carries in `objects` (its OpenCTI standard id). */
  observableId: string;
  /** x_opencti_score given to the observable, when Criminal IP rated it. */
  score?: number;
  labels: string[];
  /** The connector's Indicator for the observable, when the verdict gave one. */
  indicatorId?: string;
  /** The Markdown summary written to the observable's x_opencti_description. */
  summary: string;
  warnings: string[];
  /** New entities (not the observable, author or markings) and relationships in `objects`. */
  counts: { entities: number; relationships: number };
}

const DAY_MS = 86_400_000;

function unique(values: Array<string | undefined>): string[] {
  return [...new Set(values.filter((v): v is string => typeof v === 'string' && v !== ''))];
}

/** The marking-definition ids among the lists (anything else cannot be a marking ref). */
function markingIds(lists: unknown[]): string[] {
  const refs = lists.flatMap((list): unknown[] => (Array.isArray(list) ? (list as unknown[]) : []));
  return unique(refs.filter((ref): ref is string => isStixId(ref) && ref.startsWith('marking-definition--')));
}

/** The observable's standard id: the one OpenCTI sent when it has the right type, else computed. */
function standardId(observable: Observable): string {
  const given = observable.stixId ?? observable.original?.id;
  return given && given.startsWith(`${observable.type}--`)
    ? given
    : observableId(observable.type, observable.value);
}

/**
 * Markings of the objects that describe the observable: all of its own markings, never fewer, plus
 * TLP:CLEAR when none of them is a TLP (every new object carries a TLP).
 */
function describingMarkings(refs: string[]): string[] {
  return tlpFromMarkingRefs(refs) ? refs : [...refs, tlpMarkingId('TLP:CLEAR')];
}

function mismatch(graph: Graph, observable: Observable, intel: Intel): Findings {
  graph.warn(`${intel.kind} intel cannot describe a ${observable.type} observable: nothing was mapped`);
  return emptyFindings(observable.value);
}

function mapFindings(graph: Graph, observable: Observable, id: string, input: MappingInput): Findings {
  const { intel, settings } = input;
  const type = observable.type;
  if (intel.kind === 'ip') {
    if (type !== 'ipv4-addr' && type !== 'ipv6-addr') return mismatch(graph, observable, intel);
    return mapIp(graph, { id, type, value: observable.value }, intel, settings);
  }
  if (type === 'ipv4-addr' || type === 'ipv6-addr') return mismatch(graph, observable, intel);
  return mapDomain(graph, { id, type, value: observable.value }, intel, settings);
}

function addIndicator(
  graph: Graph,
  observable: Observable,
  id: string,
  findings: Findings,
  input: MappingInput,
): string | undefined {
  if (findings.indicatorReasons.length === 0) return undefined;
  const confidence =
    input.settings.indicatorConfidence === 'evidence'
      ? findings.evidence
      : input.settings.indicatorConfidence;
  const validUntil = new Date(input.now.getTime() + input.settings.indicatorValidityDays * DAY_MS);
  const indicatorId = graph.add(
    'indicator',
    () =>
      indicator(
        {
          pattern: equalityPattern(observable.type, observable.value),
          name: observable.value,
          validFrom: input.now,
          validUntil,
          ...(findings.score !== undefined ? { score: findings.score } : {}),
          mainObservableType: ENTITY_TYPE_OF[observable.type],
          detection: true,
        },
        graph.describingSdo({
          description: `Indicator from Criminal IP data: ${findings.indicatorReasons.join('; ')}.`,
          labels: findings.labels.toArray(),
          externalReferences: findings.externalReference ? [findings.externalReference] : [],
          ...(confidence !== undefined ? { confidence: Math.round(confidence) } : {}),
        }),
      ),
    'describing',
  );
  graph.relate('based-on', indicatorId, id);
  return indicatorId;
}

/** The marking-definition objects of the TLP markings the objects reference. */
function tlpDefinitions(objects: StixObject[]): StixObject[] {
  // Every object names one of the same two or three markings: each is looked up once.
  const checked = new Set<string>();
  const definitions = new Map<string, StixObject>();
  for (const object of objects) {
    const refs = object.object_marking_refs;
    if (!Array.isArray(refs)) continue;
    for (const ref of refs) {
      if (typeof ref !== 'string' || checked.has(ref)) continue;
      checked.add(ref);
      const level = tlpFromMarkingRefs([ref]);
      if (level) definitions.set(ref, markingDefinition(level));
    }
  }
  return [...definitions.values()];
}

/** Maps Criminal IP intel about one observable into STIX objects; never throws on bad intel. */
export function mapIntel(input: MappingInput): MappingResult {
  const { observable, now } = input;
  if (!isValidObservableValue(observable.type, observable.value)) {
    const warning = `the ${observable.type} value is not valid STIX: nothing was mapped`;
    return {
      objects: [],
      observableId: '',
      labels: [],
      summary: '',
      warnings: [warning],
      counts: { entities: 0, relationships: 0 },
    };
  }
  const id = standardId(observable);
  const ownMarkings = markingIds([input.markingRefs, observable.original?.object_marking_refs]);
  const graph = new Graph({
    observableId: id,
    describing: describingMarkings(ownMarkings),
    authorId: CRIMINAL_IP_AUTHOR.id,
    now,
  });

  let findings: Findings;
  try {
    findings = mapFindings(graph, observable, id, input);
  } catch (error) {
    // A reader or builder bug must not lose the enrichment: keep what was built, say what failed.
    graph.warn(`mapping stopped early: ${error instanceof Error ? error.message : String(error)}`);
    findings = emptyFindings(observable.value);
  }
  const indicatorId = addIndicator(graph, observable, id, findings, input);

  const summary = renderSummary(findings.heading, findings.facts, findings.sections);
  const labels = findings.labels.toArray();
  const self = reemitObservable(
    observableSco(observable.type, observable.value, {
      markingRefs: ownMarkings,
      createdByRef: CRIMINAL_IP_AUTHOR.id,
      ...(findings.score !== undefined ? { score: findings.score } : {}),
      description: summary,
      labels,
      externalReferences: findings.externalReference ? [findings.externalReference] : [],
    }),
    observable.original,
    id,
  );

  const mapped = graph.list();
  const objects = [self, CRIMINAL_IP_AUTHOR as StixObject, ...mapped];
  const relationships = mapped.filter((o) => o.type === 'relationship').length;
  return {
    // The builders compute 6.9's ids; the connected platform's rules may re-key some of them.
    objects: objectsUnderIdRules([...objects, ...tlpDefinitions(objects)], input.idRules ?? ID_RULES_6_9),
    observableId: id,
    ...(findings.score !== undefined ? { score: findings.score } : {}),
    ...(indicatorId !== undefined ? { indicatorId } : {}),
    labels,
    summary,
    warnings: graph.warnings,
    counts: { entities: mapped.length - relationships, relationships },
  };
}
