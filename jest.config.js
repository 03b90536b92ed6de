/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.(t|j)s$': [
      '@swc/jest',
      { jsc: { target: 'es2023', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } },
    ],
  },
  // jose ships ES modules only: transform it like our own code (everything else stays as installed).
  transformIgnorePatterns: ['/node_modules/(?!jose/)'],
  // Tests talk only to stand-ins on loopback (any other connection attempt throws), and they read only the
  // repository: reference data lives in tests/fixtures/reference, never in a folder beside the project.
  setupFiles: ['<rootDir>/tests/setup/no-internet.ts', '<rootDir>/tests/setup/stay-inside.ts'],
  testTimeout: 30000,
  reporters: ['default', '<rootDir>/tests/setup/summary-reporter.js'],
  // Two cores in CI: two workers keep memory and CPU predictable.
  maxWorkers: 2,
};
