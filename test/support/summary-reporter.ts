import Mocha from "mocha";

/**
 * The spec reporter, closed by one plain line `N passed, N failed, N skipped`
 * that CI reads whatever runner produced the run.
 */
class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    runner.on(Mocha.Runner.constants.EVENT_TEST_PASS, () => passed++);
    runner.on(Mocha.Runner.constants.EVENT_TEST_FAIL, () => failed++);
    runner.on(Mocha.Runner.constants.EVENT_TEST_PENDING, () => skipped++);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      // Registered after the spec reporter's epilogue, so this is the last line.
      console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
    });
  }
}

export = SummaryReporter;
