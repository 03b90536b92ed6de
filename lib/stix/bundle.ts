/**
 * Bundle assembly. Mapping code adds objects as it meets them; the same object (same id) met
 * twice is kept once, so a bundle never holds two versions of one object.
 */
import { v4 as uuidv4 } from 'uuid';
import type { StixBundle, StixObject } from './core';
import { isTlpMarkingId } from './markings';

/** Lists whose items are plain values: merging two versions keeps every distinct item. */
function mergeValue(earlier: unknown, later: unknown): unknown {
  if (Array.isArray(earlier) && Array.isArray(later)) {
    const seen = new Set<string>();
    const merged: unknown[] = [];
    for (const item of [...(earlier as unknown[]), ...(later as unknown[])]) {
      const key = JSON.stringify(item);
      if (!seen.has(key)) {
        seen.add(key);
        merged.push(item);
      }
    }
    return merged;
  }
  return later === undefined ? earlier : later;
}

/**
 * Two versions of one object become one: properties of the later version win, lists (labels,
 * markings, external references, object_refs) keep the items of both.
 */
export function mergeStixObjects<T extends StixObject>(earlier: T, later: T): T {
  const merged: Record<string, unknown> = { ...earlier };
  for (const [key, value] of Object.entries(later)) merged[key] = mergeValue(earlier[key], value);
  return merged as T;
}

export class BundleBuilder {
  private readonly byId = new Map<string, StixObject>();

  /** Adds objects; one whose id is already present is merged into it (see mergeStixObjects). */
  add(...objects: StixObject[]): this {
    for (const object of objects) {
      const existing = this.byId.get(object.id);
      // Map keeps the first insertion position, so the bundle order follows first appearance.
      this.byId.set(object.id, existing ? mergeStixObjects(existing, object) : object);
    }
    return this;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  get(id: string): StixObject | undefined {
    return this.byId.get(id);
  }

  objects(): StixObject[] {
    return [...this.byId.values()];
  }

  get size(): number {
    return this.byId.size;
  }

  /** A bundle with a fresh random id (bundle ids carry no meaning, unlike object ids). */
  build(): StixBundle {
    return { type: 'bundle', id: `bundle--${uuidv4()}`, objects: this.objects() };
  }
}

function collectRefs(value: unknown, into: (ref: string) => void): void {
  if (Array.isArray(value)) {
    for (const item of value) collectRefs(item, into);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  for (const [key, inner] of Object.entries(value)) {
    if (key.endsWith('_ref') && typeof inner === 'string') into(inner);
    else if (key.endsWith('_refs') && Array.isArray(inner)) {
      for (const item of inner) if (typeof item === 'string') into(item);
    } else collectRefs(inner, into);
  }
}

/**
 * Ids referenced by a `*_ref` / `*_refs` property anywhere in the bundle's objects (nested ones
 * included, e.g. granular markings) that neither an object of the bundle, nor a static TLP
 * marking, nor `known` (ids that exist in OpenCTI already) accounts for. OpenCTI cannot resolve
 * such a reference, so a bundle to push should have none.
 */
export function danglingRefs(bundle: StixBundle, known: ReadonlySet<string> = new Set()): string[] {
  const present = new Set(bundle.objects.map((object) => object.id));
  const dangling = new Set<string>();
  collectRefs(bundle.objects, (ref) => {
    if (!present.has(ref) && !known.has(ref) && !isTlpMarkingId(ref)) dangling.add(ref);
  });
  return [...dangling];
}
