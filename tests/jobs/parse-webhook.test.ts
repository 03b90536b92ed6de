import fs from 'node:fs';
import path from 'node:path';
import ejs from 'ejs';
import { MAX_WEBHOOK_OBSERVABLES } from '../../lib/jobs/limits';
import { parseWebhookPayload, WebhookError, type ParsedWebhook } from '../../lib/jobs/parse-webhook';
import { ALL_TYPES, NOW, TLP, fixture, type Fixture } from './fixtures';

const TEMPLATE = fs.readFileSync(path.resolve(__dirname, '../../docs/webhook-template.ejs'), 'utf8');
const NOTIFICATION_EXAMPLE = path.resolve(
  __dirname,
  '../fixtures/reference/opencti/webhook-notification-example.json',
);
const OCTI = 'extension-definition--ea279b3e-5c71-4632-ac08-831c66a786ba';

const opts = { scope: ALL_TYPES, now: NOW };

type Context = Fixture;

/** The body OpenCTI's notifier sends: the template rendered with the notification's data. */
function render(context: Context): string {
  return ejs.render(TEMPLATE, context);
}

function webhookErrorOf(action: () => unknown): WebhookError {
  try {
    action();
  } catch (error) {
    if (error instanceof WebhookError) return error;
    throw error;
  }
  throw new Error('expected a WebhookError');
}

function byValue(parsed: ParsedWebhook) {
  return Object.fromEntries(parsed.jobs.map((job) => [job.observable.value, job]));
}

describe('docs/webhook-template.ejs rendered by ejs', () => {
  it('renders valid JSON in which every value survives, quotes, backslashes, new lines and Unicode included', () => {
    const context = fixture('webhook-context.json');
    const payload = JSON.parse(render(context));
    expect(payload.source).toBe('opencti');
    expect(payload.format).toBe('criminalip-opencti/webhook-v1');
    expect(payload.notification).toEqual({
      id: context.notification.id,
      name: 'Criminal IP "enrichment" \\ playbook',
      trigger_type: 'digest',
      created: '2026-02-10T10:06:30.000Z',
    });
    expect(payload.platform_uri).toBe('https://opencti.example.com');
    expect(payload.events).toEqual(context.content);
    expect(payload.objects).toEqual(context.data.map((d: { instance: unknown }) => d.instance));
    const tricky = payload.objects.find((o: { id: string }) => o.id.startsWith('url--5c9d'));
    expect(tricky.value).toBe("https://exämple.com/a\"b\\c?q=ü&r='x'");
    expect(tricky.x_opencti_description).toBe(
      'Line one\nLine "two" with a \\ backslash\tand a tab, Ünïcødé 漢字 😀, and </script> <%= not code %>',
    );
  });

  it('renders valid JSON from a sparse notification (no id, no platform URI, an item without instance)', () => {
    const payload = JSON.parse(
      render({
        notification: { name: 'live' },
        content: [],
        data: [{ type: 'create' }],
        platform_uri: undefined,
      }),
    );
    expect(payload).toMatchObject({
      notification: { name: 'live' },
      platform_uri: null,
      events: [],
      objects: [null],
    });
  });

  it('turns the rendered body into one job per observable in scope, listing what it ignores', () => {
    const context = fixture('webhook-context.json');
    const parsed = parseWebhookPayload(render(context), opts);
    expect(parsed.form).toBe('template');
    expect(parsed.jobs.map((j) => [j.observable.type, j.observable.value])).toEqual([
      ['ipv4-addr', '8.8.8.8'],
      ['domain-name', 'example.com'],
      ['url', "https://exämple.com/a\"b\\c?q=ü&r='x'"],
      ['ipv6-addr', '2001:4860:4860::8888'],
      ['domain-name', 'bücher.de'],
      ['hostname', 'host.example.com'],
    ]);
    expect(parsed.ignored).toEqual([
      {
        index: 2,
        reason: 'unsupported-type',
        detail: '"report" is not an observable type this connector enriches',
      },
      {
        index: 4,
        reason: 'invalid-value',
        detail: expect.stringMatching(/^Hostname "bad\\nhost.example.com" contains control/),
      },
      {
        index: 6,
        reason: 'unsupported-type',
        detail: '"email-addr" is not an observable type this connector enriches',
      },
    ]);

    const jobs = byValue(parsed);
    const ip = jobs['8.8.8.8']!;
    expect(ip.origin).toEqual({ kind: 'webhook', source: 'Criminal IP "enrichment" \\ playbook' });
    expect(ip.observable).toEqual({
      type: 'ipv4-addr',
      value: '8.8.8.8',
      stixId: 'ipv4-addr--2f689bf9-0ff2-545f-aa61-e495eb8cecc7',
      markingRefs: [TLP.green],
      original: context.data[0].instance,
    });
    expect(ip.receivedAt).toBe(NOW.toISOString());
    expect(jobs['https://example.com/']).toBeUndefined();
    expect(jobs['example.com']!.observable.markingRefs).toBeUndefined(); // not stated: the gate asks OpenCTI
    expect(jobs['host.example.com']!.observable.markingRefs).toEqual([TLP.amber]);
  });

  it('leaves out the observables CONNECTOR_SCOPE excludes', () => {
    const parsed = parseWebhookPayload(render(fixture('webhook-context.json')), {
      scope: ['IPv4-Addr'],
      now: NOW,
    });
    expect(parsed.jobs.map((j) => j.observable.value)).toEqual(['8.8.8.8']);
    expect(parsed.ignored.filter((i) => i.reason === 'out-of-scope').map((i) => i.index)).toEqual([
      1, 3, 4, 5, 7, 8,
    ]);
  });

  it('recognises the same event sent to several users, and tells later events apart', () => {
    const context = fixture('webhook-context.json');
    const first = byValue(parseWebhookPayload(render(context), opts));
    const again = byValue(
      parseWebhookPayload(render(context), { ...opts, now: new Date('2026-02-10T10:06:02.500Z') }),
    );
    expect(again['8.8.8.8']!.jobId).toBe(first['8.8.8.8']!.jobId);

    context.data[0].instance.extensions[OCTI].updated_at = '2026-02-10T12:00:00.000Z';
    const modified = byValue(parseWebhookPayload(render(context), opts));
    expect(modified['8.8.8.8']!.jobId).not.toBe(first['8.8.8.8']!.jobId);
    expect(modified['example.com']!.jobId).toBe(first['example.com']!.jobId);

    const nextDay = byValue(
      parseWebhookPayload(render(context), { ...opts, now: new Date('2026-02-11T10:00:00Z') }),
    );
    expect(nextDay['example.com']!.jobId).not.toBe(first['example.com']!.jobId);
  });

  it('ignores objects the notification reports as deleted', () => {
    const context = fixture('webhook-context.json');
    context.content[0].events[0].operation = 'delete';
    const parsed = parseWebhookPayload(render(context), opts);
    expect(parsed.jobs.map((j) => j.observable.value)).not.toContain('8.8.8.8');
    expect(parsed.ignored[0]).toEqual({
      index: 0,
      reason: 'deleted',
      detail: '"ipv4-addr--2f689bf9-0ff2-545f-aa61-e495eb8cecc7" was deleted: nothing to enrich',
    });
  });

  it('enriches a repeated observable once', () => {
    const context = fixture('webhook-context.json');
    context.data.push({ ...context.data[0] });
    const parsed = parseWebhookPayload(render(context), opts);
    expect(parsed.jobs.filter((j) => j.observable.value === '8.8.8.8')).toHaveLength(1);
    expect(parsed.ignored.at(-1)).toEqual({
      index: 9,
      reason: 'duplicate',
      detail: 'IPv4-Addr "8.8.8.8" is already item 0',
    });
  });

  it(`refuses more than ${MAX_WEBHOOK_OBSERVABLES} observables, counting observables only`, () => {
    const context = fixture('webhook-context.json');
    const ip = context.data[0];
    const report = context.data[2];
    const many = (n: number, item: Context) =>
      Array.from({ length: n }, (_, i) => ({
        ...item,
        instance: {
          ...item.instance,
          id: `${item.instance.type}--${String(i).padStart(12, '0')}`,
          value: `192.0.2.${i}`,
        },
      }));
    const error = webhookErrorOf(() =>
      parseWebhookPayload(render({ ...context, data: many(MAX_WEBHOOK_OBSERVABLES + 1, ip) }), opts),
    );
    expect(error.toJSON()).toEqual({
      error: 'too-many-observables',
      detail: expect.stringMatching(/^101 observables in `objects`, at most 100 per body/),
    });
    const mixed = parseWebhookPayload(
      render({ ...context, data: [...many(150, report), ...many(5, ip)] }),
      opts,
    );
    expect(mixed.jobs).toHaveLength(5);
  });

  // The oldest platform docs/opencti-setup.md names for webhooks: 6.8.16 (JSON-safe templates). Its sandbox lacks `Array`,
  // which arrived in 6.9.2.
  const SANDBOX_GLOBALS_6_8_16 = [
    'JSON',
    'Object',
    'String',
    'Number',
    'Boolean',
    'Date',
    'Math',
    'undefined',
  ];
  const LATER_GLOBALS = ['Array'];

  it('references only what OpenCTI 6.8.16 gives a notifier template and what its sandbox allows', () => {
    const { referenced, properties, usesThis } = scanTemplateCode(TEMPLATE);
    const notifierVariables = ['notification', 'content', 'data', 'platform_uri']; // docs/opencti.md §9.5, §9.7
    expect(
      [...referenced].filter((name) => ![...notifierVariables, ...SANDBOX_GLOBALS_6_8_16].includes(name)),
    ).toEqual([]);
    const forbidden = ['__proto__', 'prototype', 'constructor', 'arguments', 'callee', 'caller'];
    expect([...properties].filter((name) => forbidden.includes(name))).toEqual([]);
    expect(usesThis).toBe(false);
  });

  it('renders with the globals of 6.8.16 only (Array unavailable) to the same jobs', () => {
    const context = fixture('webhook-context.json');
    const without = Object.fromEntries(LATER_GLOBALS.map((name) => [name, undefined]));
    // EJS resolves names through its locals first, so a local set to undefined hides the global.
    const oldBody = ejs.render(TEMPLATE, { ...context, ...without });
    expect(() => ejs.render('<%- Array.isArray(data) %>', { ...context, ...without })).toThrow(TypeError);
    expect(JSON.parse(oldBody)).toEqual(JSON.parse(render(context)));
    expect(parseWebhookPayload(oldBody, opts).jobs.length).toBeGreaterThan(0);
  });

  it('sends empty lists when a notification has no content or data', () => {
    const context = fixture('webhook-context.json');
    const body = JSON.parse(ejs.render(TEMPLATE, { ...context, content: undefined, data: null })) as {
      events: unknown;
      objects: unknown;
    };
    expect(body.events).toEqual([]);
    expect(body.objects).toEqual([]);
  });
});

describe('the payload of docs/opencti.md §9.7/§9.8', () => {
  it('is read too (playbook name at the top level)', () => {
    const example = fs.readFileSync(NOTIFICATION_EXAMPLE, 'utf8');
    const parsed = parseWebhookPayload(example, opts);
    expect(parsed.jobs).toHaveLength(1);
    expect(parsed.jobs[0]!.origin).toEqual({ kind: 'webhook', source: 'Criminal IP enrichment' });
    expect(parsed.jobs[0]!.observable).toMatchObject({
      type: 'ipv4-addr',
      value: '8.8.8.8',
      markingRefs: [TLP.green],
    });
  });
});

describe('the minimal form', () => {
  it('takes typed and untyped observables, OpenCTI type names included', () => {
    const parsed = parseWebhookPayload(
      {
        observables: [
          { type: 'ipv4-addr', value: '8.8.8.8' },
          { value: 'Example.COM' },
          { type: 'IPv6-Addr', value: '2001:db8::1' },
          { value: 'https://example.com/login' },
        ],
      },
      opts,
    );
    expect(parsed.form).toBe('minimal');
    expect(parsed.jobs.map((j) => j.observable)).toEqual([
      { type: 'ipv4-addr', value: '8.8.8.8' },
      { type: 'domain-name', value: 'example.com' },
      { type: 'ipv6-addr', value: '2001:db8::1' },
      { type: 'url', value: 'https://example.com/login' },
    ]);
    expect(parsed.jobs[0]!.origin).toEqual({ kind: 'webhook', source: 'script' });
    expect(parsed.ignored).toEqual([]);
  });

  it('lists what it cannot enrich', () => {
    const parsed = parseWebhookPayload(
      {
        source: 'nightly-import',
        observables: [
          { type: 'email-addr', value: 'a@example.com' },
          { type: 'ipv4-addr', value: '999.1.1.1' },
          { value: 'https://example.com/' },
          { value: 'example.com/path' },
          { value: '8.8.8.8' },
          { type: 'ipv4-addr', value: '8.8.8.8' },
        ],
      },
      { scope: ['IPv4-Addr', 'Domain-Name'], now: NOW },
    );
    expect(parsed.jobs.map((j) => j.observable.value)).toEqual(['8.8.8.8']);
    expect(parsed.jobs[0]!.origin.source).toBe('nightly-import');
    expect(parsed.ignored.map((i) => [i.index, i.reason])).toEqual([
      [0, 'unsupported-type'],
      [1, 'invalid-value'],
      [2, 'out-of-scope'],
      [3, 'invalid-value'],
      [5, 'duplicate'],
    ]);
    expect(parsed.ignored[3]!.detail).toMatch(/cannot tell the type of "example.com\/path"/);
  });

  it('recognises a re-sent request by its request_id; without one every POST is new', () => {
    const body = { request_id: 'batch-7', observables: [{ value: '8.8.8.8' }] };
    const first = parseWebhookPayload(body, opts).jobs[0]!.jobId;
    const later = { ...opts, now: new Date('2026-02-10T11:00:00Z') };
    expect(parseWebhookPayload(JSON.stringify(body), later).jobs[0]!.jobId).toBe(first);
    expect(parseWebhookPayload({ ...body, request_id: 'batch-8' }, opts).jobs[0]!.jobId).not.toBe(first);
    const unkeyed = { observables: [{ value: '8.8.8.8' }] };
    expect(parseWebhookPayload(unkeyed, opts).jobs[0]!.jobId).not.toBe(
      parseWebhookPayload(unkeyed, later).jobs[0]!.jobId,
    );
  });

  it(`refuses more than ${MAX_WEBHOOK_OBSERVABLES} observables`, () => {
    const observables = Array.from({ length: 101 }, (_, i) => ({ value: `192.0.2.${i % 250}` }));
    expect(webhookErrorOf(() => parseWebhookPayload({ observables }, opts)).code).toBe(
      'too-many-observables',
    );
    expect(
      parseWebhookPayload({ observables: observables.slice(0, 3) }, { ...opts, maxObservables: 3 }).jobs,
    ).toHaveLength(3);
  });
});

describe('malformed bodies', () => {
  it.each([
    ['not JSON', '{"observables": [', 'invalid-json', /^the body is not valid JSON$/],
    ['an empty body', '', 'invalid-json', /not valid JSON/],
    ['an array', '[{"value": "8.8.8.8"}]', 'unrecognised-payload', /`objects`.*`observables`/],
    ['an object of neither form', { hello: 'world' }, 'unrecognised-payload', /minimal form/],
    ['both forms', { objects: [], observables: [] }, 'unrecognised-payload', /send one form/],
    ['objects that is not a list', { objects: { id: 'x' } }, 'invalid-payload', /^objects: /],
    [
      'an observable without value',
      { observables: [{ valu: '8.8.8.8' }] },
      'invalid-payload',
      /^observables\.0\.value: /,
    ],
    ['a non-string value', { observables: [{ value: 8 }] }, 'invalid-payload', /observables\.0\.value/],
    [
      'a notification name of the wrong kind',
      { notification: { name: 3 }, objects: [] },
      'invalid-payload',
      /notification\.name/,
    ],
  ])('refuses %s with a clear JSON error', (_label, body, code, detail) => {
    const error = webhookErrorOf(() => parseWebhookPayload(body, opts));
    expect(error.code).toBe(code);
    expect(error.detail).toMatch(detail);
    expect(JSON.parse(JSON.stringify(error))).toEqual({ error: code, detail: error.detail });
  });

  it('does not echo the body in the error', () => {
    const error = webhookErrorOf(() => parseWebhookPayload('{"token": "s3cr3t-value", oops}', opts));
    expect(error.message).not.toContain('s3cr3t');
  });
});

/**
 * The names the template's code reads, the property names it uses and whether it uses `this`,
 * found with the TypeScript parser. OpenCTI's sandbox refuses a template that reads a variable it
 * was not given, or touches prototype machinery (docs/opencti.md §9.4).
 */
function scanTemplateCode(template: string) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ts = require('typescript') as typeof import('typescript');
  const code = [...template.matchAll(/<%([^#][\s\S]*?)%>/g)]
    .map((m) => m[1]!)
    .map((c) => (/^[-=_]/.test(c) ? `(${c.slice(1)});` : c))
    .join('\n');
  const source = ts.createSourceFile('template.js', code, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
  const declared = new Set<string>();
  const referenced = new Set<string>();
  const properties = new Set<string>();
  let usesThis = false;
  const visit = (node: import('typescript').Node): void => {
    if (node.kind === ts.SyntaxKind.ThisKeyword) usesThis = true;
    if ((ts.isParameter(node) || ts.isVariableDeclaration(node)) && ts.isIdentifier(node.name)) {
      declared.add(node.name.text);
    }
    if (ts.isPropertyAccessExpression(node)) properties.add(node.name.text);
    if (ts.isPropertyAssignment(node) && ts.isIdentifier(node.name)) properties.add(node.name.text);
    if (ts.isIdentifier(node)) {
      const parent = node.parent;
      const isName =
        (ts.isPropertyAccessExpression(parent) && parent.name === node) ||
        (ts.isPropertyAssignment(parent) && parent.name === node) ||
        ((ts.isParameter(parent) || ts.isVariableDeclaration(parent)) && parent.name === node);
      if (!isName) referenced.add(node.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  const syntax = ts.transpileModule(code, { reportDiagnostics: true, compilerOptions: { allowJs: true } });
  expect(syntax.diagnostics ?? []).toEqual([]);
  return { referenced: new Set([...referenced].filter((n) => !declared.has(n))), properties, usesThis };
}
