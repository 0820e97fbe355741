import type { Command } from "@commander-js/extra-typings";
import type { ExitCodeHolder } from "../exit-codes.ts";

// Placeholder registration; the traffic commands land with src/traffic/.
export function registerTrafficCommands(_program: Command, _outcome: ExitCodeHolder): void {}
