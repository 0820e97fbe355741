/**
 * What a simulation flags: a closed catalog, documented in docs/reference/simulate.md (a test
 * keeps it complete). Codes are never renamed: change review and risk rules match on them. A
 * flag is raised exactly when its condition holds; each says which group or side it is about.
 */
export const SIMULATION_FLAG_CODES = {
  "simulation.spend_growth":
    "Proposed subsidy per hour exceeds current subsidy per hour by more than the growth threshold.",
  "simulation.new_scenario":
    "The proposed configuration subsidises a payment scenario the current one subsidises nowhere.",
  "simulation.new_region":
    "The proposed configuration subsidises a region the current one subsidises nowhere.",
  "simulation.new_funding":
    "The proposed configuration pays subsidies from a funding source the current one never uses.",
  "simulation.protected_scenario":
    "A payment in a protected scenario, or to an individual payee, got a subsidy (the envelope should make this impossible).",
} as const;

export type SimulationFlagCode = keyof typeof SIMULATION_FLAG_CODES;

export interface SimulationFlag {
  readonly code: SimulationFlagCode;
  /** The scenario, region or funding source the flag is about; absent for spend growth. */
  readonly key?: string;
  readonly message: string;
}
