import type { Config } from 'jest';

// Two tiers. `unit` needs nothing running (pure stages, protocol parsing, the Salesforce
// simulator's contract, which starts in-process). `integration` runs against real Kafka,
// Apicurio Registry and PostgreSQL: its global set-up starts whichever of them is not already
// running and stops, afterwards, only what it started.
const tsJest: Config['transform'] = {
  '^.+\\.ts$': ['ts-jest', { diagnostics: false }],
};

const config: Config = {
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform: tsJest,
      testMatch: ['<rootDir>/test/unit/**/*.test.ts', '<rootDir>/test/contract/**/*.test.ts'],
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      transform: tsJest,
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    },
  ],
  testTimeout: 120_000,
};

export default config;
