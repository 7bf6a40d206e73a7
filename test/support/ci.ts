/** True when the suite runs in CI (CI=true), where a missing binary is a failure, not a skip. */
export const IN_CI: boolean = ((): boolean => {
  const v = process.env.COCKPIT_CI ?? process.env.CI;
  return v !== undefined && v !== "" && v !== "0" && v !== "false";
})();
