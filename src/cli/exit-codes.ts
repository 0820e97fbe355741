/** Exit codes shared by every command (CONTRACTS.md). */
export const EXIT_OK = 0;
/** The input was understood and has errors (validation or lint findings, failed invariants). */
export const EXIT_FINDINGS = 1;
/** The input could not be used at all: bad flags, unreadable files, malformed data. */
export const EXIT_UNUSABLE_INPUT = 2;

/** Commands set the process's exit code here instead of calling process.exit. */
export interface ExitCodeHolder {
  exitCode: number;
}
