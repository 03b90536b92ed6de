/**
 * OpenCTI 7.x id formulas (tests/fixtures/reference/opencti/id-vectors-7.json) and their choice by
 * platform version. The 6.9 vectors stay in ids.test.ts.
 */
import vectors from '../fixtures/reference/opencti/id-vectors-7.json';
import { idRulesFor, parsePlatformVersion } from '../../lib/opencti/platform-version';
import { ipv4Addr, note, relationship, software } from '../../lib/stix/builders';
import type { StixBundle } from '../../lib/stix/core';
import {
  applyIdRules,
  objectsUnderIdRules,
  ID_RULES_6_9,
  ID_RULES_7_LATEST,
  noteIdFor,
  softwareIdFor,
  type IdRules,
} from '../../lib/stix/id-rules';
import { noteId, softwareId } from '../../lib/stix/ids';
import { expectValidBundle } from '../helpers/stix-validator';

const RULES: Record<string, IdRules> = { '6.9': ID_RULES_6_9, '7.x': ID_RULES_7_LATEST };

describe('OpenCTI 7.x id vectors', () => {
  it.each(vectors.vectors.map((v) => [v.name, v] as const))('%s', (_name, v) => {
    const rules = RULES[v.rules]!;
    const input = v.input as unknown as Record<string, string>;
    const id =
      v.type === 'note'
        ? noteIdFor(rules, input.content!, input.created, input.abstract)
        : softwareIdFor(rules, input);
    expect(id).toBe(v.id);
  });

  it('gives the 6.9 ids of ids.ts under the 6.9 rules', () => {
    expect(noteIdFor(ID_RULES_6_9, 'Criminal IP score: Critical')).toBe(
      noteId('Criminal IP score: Critical'),
    );
    expect(softwareIdFor(ID_RULES_6_9, { name: 'nginx', version: '1.2' })).toBe(
      softwareId({ name: 'nginx', version: '1.2' }),
    );
  });

  it('trims contributing strings from 7.260416.0 on', () => {
    expect(noteIdFor(ID_RULES_7_LATEST, '  My note content! ', undefined, ' Summary ')).toBe(
      'note--f0dc3eac-1c64-53dd-a5e2-a3d7b5480245',
    );
    expect(noteIdFor(ID_RULES_6_9, '  My note content! ')).not.toBe(noteId('My note content!'));
  });
});

describe('id rules by platform version', () => {
  const rulesOf = (raw: string) => idRulesFor(parsePlatformVersion(raw));

  it('keeps the 6.9 formulas on 6.9.x and on the LTS line (7.260309.0 base)', () => {
    expect(rulesOf('6.9.17')).toEqual(ID_RULES_6_9);
    expect(rulesOf('7.260309.0-lts.7')).toEqual(ID_RULES_6_9);
    expect(rulesOf('7.260224.0')).toEqual(ID_RULES_6_9);
  });

  it('adds trimming and the Note abstract at 7.260416.0, the Software name at 7.260422.0', () => {
    expect(rulesOf('7.260416.0')).toEqual({
      trimStrings: true,
      noteAbstract: true,
      softwareLowerCaseName: false,
    });
    expect(rulesOf('7.260422.0')).toEqual(ID_RULES_7_LATEST);
    expect(rulesOf('7.260817.0')).toEqual(ID_RULES_7_LATEST);
    expect(rulesOf('7.261109.0')).toEqual(ID_RULES_7_LATEST);
  });
});

describe('applyIdRules', () => {
  const created = new Date('2026-11-20T10:00:00.000Z');
  const ip = ipv4Addr('203.0.113.7');
  const ssh = software({ name: 'OpenSSH', version: '8.9p1' });
  const has = relationship('has', ip.id, ssh.id, { created });
  const memo = note(
    { content: 'Seen by Criminal IP', abstract: 'Criminal IP', objectRefs: [ip.id, ssh.id, has.id] },
    { created },
  );
  const bundle: StixBundle = {
    type: 'bundle',
    id: 'bundle--5c1e2a36-1b7e-4d8f-9a3c-1e2d3f4a5b6c',
    objects: [ip, ssh, has, memo],
  };

  it('leaves a bundle as it is under the 6.9 rules', () => {
    expect(applyIdRules(bundle, ID_RULES_6_9)).toBe(bundle);
  });

  it('re-keys Software, the Note and the relationship touching them, and every reference, under the 7.x rules', () => {
    const out = applyIdRules(bundle, ID_RULES_7_LATEST);
    const byType = (type: string) => out.objects.find((o) => o.type === type)!;
    const newSoftware = softwareIdFor(ID_RULES_7_LATEST, { name: 'OpenSSH', version: '8.9p1' });
    expect(byType('software').id).toBe(newSoftware);
    expect(byType('software').name).toBe('OpenSSH'); // the display name is untouched
    const rel = byType('relationship');
    expect(rel.target_ref).toBe(newSoftware);
    expect(rel.id).not.toBe(has.id);
    const n = byType('note');
    expect(n.id).toBe(noteIdFor(ID_RULES_7_LATEST, 'Seen by Criminal IP', memo.created, 'Criminal IP'));
    expect(n.object_refs).toEqual([ip.id, newSoftware, rel.id]);
    expect(byType('ipv4-addr').id).toBe(ip.id);
    expectValidBundle(out);
  });

  it('makes one object of two the 7.x rules give the same id, and of the relationships to them', () => {
    const lower = software({ name: 'openssh', version: '8.9p1' });
    const hasLower = relationship('has', ip.id, lower.id, { created });
    const objects = [ip, ssh, has, lower, hasLower];
    expect(new Set(objects.map((o) => o.id)).size).toBe(5);
    const out = objectsUnderIdRules(objects, ID_RULES_7_LATEST);
    expect(out.map((o) => o.type)).toEqual(['ipv4-addr', 'software', 'relationship']);
    expect(out[1]).toMatchObject({ name: 'OpenSSH' });
    expect(objectsUnderIdRules(objects, ID_RULES_6_9)).toBe(objects);
  });
});
