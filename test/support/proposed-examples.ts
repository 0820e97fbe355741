import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROJECT_ROOT } from "./run-cli.ts";

export const EXAMPLES_DIRECTORY = join(PROJECT_ROOT, "examples");

/**
 * A copy of examples/ in a fresh temporary directory with the routine `instant-discount`
 * template edited from 50 fen off to 20 % off (capped at 20 yuan); the campaigns using it drop
 * their fixed-amount override, as an operator making that edit would have to. Returns the copy.
 */
export function proposedExamplesCopy(): string {
  const directory = mkdtempSync(join(tmpdir(), "bursar-proposed-"));
  cpSync(EXAMPLES_DIRECTORY, directory, { recursive: true });
  const template = join(directory, "templates", "instant-discount.yaml");
  const text = readFileSync(template, "utf8");
  const edited = text.replace(
    /offer:\n {2}kind: fixed\n {2}amountMinor: 50[^\n]*\nbands:\n {2}amountMinor:[^\n]*\n/,
    "offer:\n  kind: percent\n  rateBps: 2000\n  capMinor: 2000\n",
  );
  if (edited === text) throw new Error("the instant-discount template no longer looks as expected");
  writeFileSync(template, edited);
  for (const name of readdirSync(join(directory, "campaigns"))) {
    const path = join(directory, "campaigns", name);
    const campaign = readFileSync(path, "utf8");
    if (campaign.includes("template: instant-discount"))
      writeFileSync(path, campaign.replace(/^offer:\n {2}amountMinor:[^\n]*\n/m, ""));
  }
  return directory;
}
