/**
 * The objects one mapping produces, with the marking rule applied in one place.
 *
 * Two kinds of object exist. *Describing* objects tell something about the enriched observable
 * (other observables found through it, its certificates, every relationship from or to it); they
 * carry the observable's markings, so that nothing learnt from a TLP:AMBER observable is published
 * less restricted. *Shared* reference objects (autonomous systems, countries, cities, software,
 * vulnerabilities) are public facts the platform already shares; they carry TLP:CLEAR, as do
 * relationships between two shared objects.
 *
 * A builder that refuses its input (StixInputError) costs one object and leaves a warning: one odd
 * value never fails the whole enrichment.
 */
import {
  relationship,
  tlpMarkingId,
  type RelationshipType,
  type ScoOptions,
  type SdoOptions,
  type StixObject,
} from '../stix';

export interface GraphOptions {
  /** Id of the observable being enriched (its OpenCTI standard id). */
  observableId: string;
  /** Marking refs for describing objects. */
  describing: string[];
  /** created_by_ref of every new object. */
  authorId: string;
  now: Date;
}

export class Graph {
  private readonly objects = new Map<string, StixObject>();
  private readonly shared = new Set<string>();
  /** Ids answered by addOnce, by `what`. */
  private readonly built = new Map<string, string | undefined>();
  readonly warnings: string[] = [];
  private readonly clear: string[];

  constructor(private readonly options: GraphOptions) {
    this.clear = [tlpMarkingId('TLP:CLEAR')];
  }

  get observableId(): string {
    return this.options.observableId;
  }

  /** Option bag for a describing observable (SCO). */
  describingSco(extra: Partial<ScoOptions> = {}): ScoOptions {
    return { markingRefs: this.options.describing, createdByRef: this.options.authorId, ...extra };
  }

  /** Option bag for a describing domain object (SDO). */
  describingSdo(extra: Partial<SdoOptions> = {}): SdoOptions {
    return {
      markingRefs: this.options.describing,
      createdByRef: this.options.authorId,
      created: this.options.now,
      ...extra,
    };
  }

  sharedSco(extra: Partial<ScoOptions> = {}): ScoOptions {
    return { markingRefs: this.clear, createdByRef: this.options.authorId, ...extra };
  }

  sharedSdo(extra: Partial<SdoOptions> = {}): SdoOptions {
    return {
      markingRefs: this.clear,
      createdByRef: this.options.authorId,
      created: this.options.now,
      ...extra,
    };
  }

  /**
   * Runs a builder; on success the object joins the graph (the first object with a given id is
   * kept) and its id is returned, on failure a warning is recorded and undefined returned.
   */
  add(what: string, build: () => StixObject, kind: 'describing' | 'shared'): string | undefined {
    let object: StixObject;
    try {
      object = build();
    } catch (error) {
      this.warn(`skipped ${what}: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    }
    // The observable is emitted by mapIntel itself; a builder that meets it again adds nothing.
    if (object.id !== this.options.observableId && !this.objects.has(object.id)) {
      this.objects.set(object.id, object);
      if (kind === 'shared') this.shared.add(object.id);
    }
    return object.id;
  }

  /**
   * As `add`, for an object whose id follows from `what` alone (an autonomous system by its
   * number, a country by its name): the builder runs for the first call only and later calls
   * answer the same id. Such objects come back once per address of a report, and a rebuilt copy
   * would be dropped anyway, since the first object with an id is the one kept.
   */
  addOnce(what: string, build: () => StixObject, kind: 'describing' | 'shared'): string | undefined {
    if (this.built.has(what)) return this.built.get(what);
    const id = this.add(what, build, kind);
    this.built.set(what, id);
    return id;
  }

  has(id: string): boolean {
    return id === this.options.observableId || this.objects.has(id);
  }

  /**
   * Adds a relationship between two objects of the graph (or the observable). Nothing is added
   * when an end is missing or both ends are the same object.
   */
  relate(
    type: RelationshipType,
    sourceRef: string | undefined,
    targetRef: string | undefined,
    description?: string,
  ): string | undefined {
    if (!sourceRef || !targetRef || sourceRef === targetRef) return undefined;
    if (!this.has(sourceRef) || !this.has(targetRef)) return undefined;
    const shared = this.shared.has(sourceRef) && this.shared.has(targetRef);
    const base = shared ? this.sharedSdo() : this.describingSdo();
    const options = description === undefined ? base : { ...base, description };
    return this.add(
      `${type} relationship`,
      () => relationship(type, sourceRef, targetRef, options),
      'describing',
    );
  }

  warn(message: string): void {
    if (!this.warnings.includes(message)) this.warnings.push(message);
  }

  list(): StixObject[] {
    return [...this.objects.values()];
  }
}
