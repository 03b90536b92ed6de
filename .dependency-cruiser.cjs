/**
 * The import rule of docs/ARCHITECTURE.md, written down once and checked by `npm run lint:deps`
 * (part of `npm test`): data flows one way, from the entry points through lib/pipeline to the
 * adapters, and no file imports one that imports it back.
 *
 *   entry points   functions/*, lib/cli.ts, infra/, bench/
 *   wiring         lib/local (npm start, the demo), lib/aws (Lambda adapters)
 *   use cases      lib/pipeline
 *   services       lib/criminalip, lib/opencti, lib/mapping
 *   ground floor   lib/core, lib/stix, lib/jobs, lib/config
 *   stand-ins      lib/standins (the demo and tests only)
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'Two files that import each other (directly or around a loop) cannot be read one after the other.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'ground-floor-imports-nothing-above',
      severity: 'error',
      comment:
        'lib/core, lib/stix, lib/jobs and lib/config are the ground floor: they import no service, use case or wiring.',
      from: { path: '^lib/(core|stix|jobs|config)/' },
      to: {
        path: '^(lib/(pipeline|aws|local|criminalip|opencti|mapping|standins|cli\\.ts)|functions/|infra/|bench/)',
      },
    },
    {
      name: 'services-do-not-import-use-cases',
      severity: 'error',
      comment:
        'lib/criminalip, lib/opencti and lib/mapping are services the pipeline uses: they never import it.',
      from: { path: '^lib/(criminalip|opencti|mapping)/' },
      to: { path: '^(lib/(pipeline|aws|local|standins|cli\\.ts)|functions/|infra/|bench/)' },
    },
    {
      name: 'use-cases-do-not-import-wiring',
      severity: 'error',
      comment: 'lib/pipeline is built from ports: AWS, SQLite and the entry points stay outside it.',
      from: { path: '^lib/pipeline/' },
      to: { path: '^(lib/(aws|local|standins|cli\\.ts)|functions/|infra/|bench/)' },
    },
    {
      name: 'aws-and-local-stay-apart',
      severity: 'error',
      comment:
        'The Lambda adapters and the local runtime are two wirings of the same ports: neither imports the other.',
      from: { path: '^lib/aws/' },
      to: { path: '^(lib/(local|standins|cli\\.ts)|functions/|infra/|bench/)' },
    },
    {
      name: 'only-local-and-cli-import-functions',
      severity: 'error',
      comment:
        'The Lambda handlers are entry points: only the local runtime and the CLI run them in-process.',
      from: { path: '^(lib|infra)/', pathNot: '^lib/(local/|cli\\.ts)' },
      to: { path: '^functions/' },
    },
    {
      name: 'functions-are-thin',
      severity: 'error',
      comment:
        'A Lambda entry point wires lib/aws and lib/pipeline; it never reaches into the local runtime or the stand-ins.',
      from: { path: '^functions/' },
      to: { path: '^(lib/(local|standins|cli\\.ts)|infra/|bench/)' },
    },
    {
      name: 'stand-ins-only-for-the-demo',
      severity: 'error',
      comment:
        'The stand-ins play Criminal IP and OpenCTI for the demo and tests; product code never imports them.',
      from: {
        path: '^(lib/(core|stix|jobs|config|criminalip|opencti|mapping|pipeline|aws)|functions|infra)/',
      },
      to: { path: '^lib/standins/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    // Type-only imports count: a type from a higher layer couples as much as a value does.
    tsPreCompilationDeps: true,
    exclude: { path: '^(node_modules|cdk\\.out|out|coverage)/' },
  },
};
