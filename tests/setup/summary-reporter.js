/**
 * Ends the jest run with one plain line, "Tests: N passed, N failed" (", N skipped" when some
 * were), which CI reads as the run's verdict beside the exit code.
 */
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    const line = `Tests: ${results.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`;
    // After jest's own summary, which it prints once every reporter has returned.
    process.once('exit', () => process.stdout.write(`${line}\n`));
  }
}

module.exports = SummaryReporter;
