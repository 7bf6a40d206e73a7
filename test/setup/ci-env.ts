// Ink decides once, when it is first imported (is-in-ci), whether it runs in CI,
// and if so draws only the final frame: every in-process rendering test would
// then see nothing. The test run still needs to know it is in CI (tests that
// need a binary fail there instead of skipping), so the flag moves to COCKPIT_CI
// before any test file imports Ink. Read it through test/support/ci.ts.
const flag = process.env.CI ?? process.env.CONTINUOUS_INTEGRATION;
if (flag !== undefined && process.env.COCKPIT_CI === undefined) process.env.COCKPIT_CI = flag;
delete process.env.CI;
delete process.env.CONTINUOUS_INTEGRATION;
