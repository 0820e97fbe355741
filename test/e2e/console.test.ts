/**
 * The web console end to end (docs/reference/console.md): Debian's Chromium driven by
 * playwright-core against a real `bursar serve --demo` (the examples seeded through the change
 * pipeline, synthetic payments flowing), acting only through the page and the public API. Signs
 * in with the administrator's token, sees the campaigns, watches the live figures move, opens an
 * incident (opened by hand through the API, as on-call would) with its impact report and CSV
 * download, reads the verified audit log, edits a campaign, reviews a change (its author may not
 * approve it, a reviewer does), rolls it out and back; forces the 2025-01-16 variant through with
 * two administrators (who first read the lint findings and the money its refused submission
 * kept), rolls it out and watches the breaker trip on the demo's traffic, then reads
 * the incident the guard opened; signs out; the page never calls another origin.
 * Screenshots of each page go to test-artifacts/e2e/.
 */
import { readFileSync } from "node:fs";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { incidentEdits } from "../../src/demo/incident-change.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { ensureConsoleBuild, launchChromium, screenshotPath } from "./browser.ts";

/** Each test is bounded; waits inside are shorter. */
const TEST_MS = 60_000;
const WAIT_MS = 20_000;
const FORCE_REASON = "campaign launch deadline; the template edit was checked by hand";
/**
 * Payments a second the demo sends. The breaker judges a campaign's subsidy per payment on at
 * least 8 subsidised payments in a window (the guard's policy): at 200 a second and a 10 % stage
 * the forced variant gets them in seconds, where the default 50 would take about a minute.
 */
const DEMO_TPS = 200;
/** How long the breaker may take to trip after the rollout starts (typically 5–10 s). */
const TRIP_WAIT_MS = 60_000;
const TRIP_TEST_MS = 150_000;

describe("the console in a browser", () => {
  let server: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const requested: string[] = [];
  /** The change the review test approves, rolled out and back by the test after it. */
  let approvedChangeId: string | undefined;
  /** The incident the breaker opens in the 2025-01-16 test, acted on by the test after it. */
  let breakerIncidentId: string | undefined;
  /** The breaker the 2025-01-16 test sees trip: on-call acknowledges and resets it after. */
  let trippedBreakerId: string | undefined;
  /** The forced 2025-01-16 change and a campaign it re-saved: its versions are read after it. */
  let forced: { readonly changeId: string; readonly campaignId: string } | undefined;

  beforeAll(async () => {
    ensureConsoleBuild();
    [server, browser] = await Promise.all([
      startTestServer("sqlite", { demo: true, demoTps: DEMO_TPS }),
      launchChromium(),
    ]);
    context = await browser.newContext({
      viewport: { width: 1366, height: 900 },
      acceptDownloads: true,
    });
    context.setDefaultTimeout(WAIT_MS);
    page = await context.newPage();
    page.on("request", (request) => requested.push(request.url()));
  }, 180_000);

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await server?.stop();
  });

  test(
    "signs in with the keyboard: a wrong token is refused beside the field, the admin's accepted",
    async () => {
      await page.goto(server.url);
      await page.getByLabel("API token").waitFor();
      // The field has focus on arrival: type and press Enter, no mouse.
      await page.keyboard.type("bsr_000000000000_not-a-real-token-at-all-000000000000000");
      await page.keyboard.press("Enter");
      await expect
        .poll(() => page.locator("#token-problem").textContent(), { timeout: WAIT_MS })
        .toContain("not valid");
      await page.getByLabel("API token").fill(server.adminToken);
      await page.keyboard.press("Enter");
      await page.getByTestId("signed-in-as").waitFor();
      expect(await page.getByTestId("signed-in-as").textContent()).toContain("admin");
      await page.screenshot({ path: screenshotPath("01-signed-in-campaigns"), fullPage: true });
    },
    TEST_MS,
  );

  test(
    "lists the campaigns with status, budget used and spend today",
    async () => {
      await page.goto(`${server.url}/#/campaigns`);
      const table = page.getByTestId("campaign-table");
      await table.waitFor();
      const rows = table.locator("tbody tr");
      expect(await rows.count()).toBeGreaterThan(30);
      const grocery = table.locator('tr[data-campaign="gov-sh-grocery-subsidy"]');
      expect(await grocery.textContent()).toMatch(/running/);
      expect(await grocery.textContent()).toMatch(/\/ 8,000\.00 CNY/);
      // The filter narrows the list as one types.
      await page.getByRole("searchbox").fill("lucky");
      await expect.poll(() => rows.count()).toBeLessThan(10);
      expect(await rows.first().textContent()).toContain("lucky");
      await page.getByRole("searchbox").fill("");
      await page.screenshot({ path: screenshotPath("02-campaigns"), fullPage: true });
    },
    TEST_MS,
  );

  test(
    "a campaign's page: what payers see, its limits, its budget and its spend live",
    async () => {
      await page.goto(`${server.url}/#/campaigns`);
      await page.getByRole("link", { name: "idc-national-qr-everyday" }).click();
      expect(page.url()).toContain("#/campaigns/idc-national-qr-everyday");
      await page.getByTestId("display-text").waitFor();
      expect((await page.getByTestId("display-text").textContent())?.length).toBeGreaterThan(10);
      const facts = await page.getByTestId("campaign-facts").textContent();
      expect(facts).toContain("totalBudgetMinor");
      expect(facts).toContain("merchant_qr");
      expect(await page.getByTestId("budget-used").textContent()).toMatch(/\/ [\d,]+\.\d\d \(/);
      // Two readings of /metrics five seconds apart make the first point of the live chart.
      await page.getByTestId("campaign-spend-chart").waitFor({ timeout: WAIT_MS });
      await page.screenshot({ path: screenshotPath("02b-campaign"), fullPage: true });
    },
    TEST_MS,
  );

  test(
    "the live page's figures change without a reload",
    async () => {
      await page.goto(`${server.url}/#/live`);
      const total = page.getByTestId("payments-total");
      await total.waitFor();
      const first = await total.textContent();
      const navigations: string[] = [];
      page.on("framenavigated", (frame) => navigations.push(frame.url()));
      await expect
        .poll(() => total.textContent(), { timeout: WAIT_MS, interval: 500 })
        .not.toBe(first);
      await expect
        .poll(() => page.getByTestId("payments-per-s").textContent(), { timeout: WAIT_MS })
        .toMatch(/^[\d,.]+$/);
      await page.getByTestId("top-campaigns").waitFor();
      expect(await page.getByTestId("top-campaigns").locator("tbody tr").count()).toBeGreaterThan(
        0,
      );
      expect(await page.getByText("Every breaker is armed").count()).toBe(1);
      expect(navigations).toEqual([]);
      await page.screenshot({ path: screenshotPath("03-live"), fullPage: true });
    },
    TEST_MS,
  );

  test(
    "incidents: the empty list, then one opened through the API, its timeline, impact report and CSV",
    async () => {
      await page.goto(`${server.url}/#/incidents`);
      await page.getByText("No incidents").waitFor();

      const operator = await server.tokenFor(["operator"], "oncall.e2e");
      const health = await server.request("GET", "/healthz");
      const opened = await server.request("POST", "/v1/incidents", {
        token: operator,
        body: {
          title: "Everyday QR discount above its forecast",
          reason: "spend on the everyday QR discount looks high on the live page",
          severity: "P3",
          windowStartMs: health.body.nowMs - 30 * 60_000,
          blame: { campaignVersions: [{ campaignId: "idc-national-qr-everyday", version: 1 }] },
        },
      });
      expect(opened.status).toBe(201);
      const incidentId = opened.body.id as string;

      // The list polls: the new incident appears without a reload.
      const link = page.getByRole("link", { name: "Everyday QR discount above its forecast" });
      await link.waitFor();
      expect(await page.getByTestId("incident-table").textContent()).toContain("P3");
      await page.screenshot({ path: screenshotPath("04-incidents"), fullPage: true });
      await link.click();
      expect(page.url()).toContain(`#/incidents/${incidentId}`);
      await page.getByTestId("timeline").waitFor();
      expect(await page.getByTestId("timeline").textContent()).toContain("opened");
      expect(await page.getByTestId("blame").textContent()).toContain("idc-national-qr-everyday@1");
      // Money in the blamed campaign's currency; an administrator is not on-call: no actions.
      expect(await page.getByTestId("incident-cumulative").textContent()).toMatch(/ CNY$/);
      expect(await page.getByTestId("incident-actions").count()).toBe(0);
      await page.getByTestId("impact").waitFor();
      const payments = Number(
        (await page.getByTestId("impact-payments").textContent())?.replace(/,/g, ""),
      );
      expect(payments).toBeGreaterThan(0);
      expect(await page.getByTestId("split-scenario").locator("tbody tr").count()).toBeGreaterThan(
        0,
      );
      expect(await page.locator("figure.chart svg").count()).toBeGreaterThan(1);

      const [download] = await Promise.all([
        page.waitForEvent("download"),
        page.getByRole("button", { name: "Download CSV" }).click(),
      ]);
      expect(download.suggestedFilename()).toBe(`${incidentId}-impact.csv`);
      const csv = readFileSync(await download.path(), "utf8");
      expect(csv.split("\n")[0]).toMatch(/^split,key,payments,users/);
      expect(csv).toContain("scenario,merchant_qr");
      const [json] = await Promise.all([
        page.waitForEvent("download"),
        page.getByRole("button", { name: "Download JSON" }).click(),
      ]);
      const report = JSON.parse(readFileSync(await json.path(), "utf8"));
      expect(report.totals.payments).toBeGreaterThanOrEqual(payments);
      await page.screenshot({ path: screenshotPath("05-incident"), fullPage: true });
      // The README's picture (scripts/readme-screenshots.sh): the first screen.
      await page.screenshot({ path: screenshotPath("readme-incident") });
    },
    TEST_MS,
  );

  test(
    "the audit log shows its verification and its newest entries",
    async () => {
      await page.goto(`${server.url}/#/audit`);
      const banner = page.getByTestId("audit-verification");
      await banner.waitFor();
      expect(await banner.textContent()).toContain("Chain verified");
      const table = page.getByTestId("audit-table");
      await table.waitFor();
      const text = await table.textContent();
      // The demo's import and the incident opened above, newest first.
      expect(text).toContain("change.created");
      expect(text).toContain("incident.opened");
      const firstRow = await table.locator("tbody tr").first().textContent();
      expect(firstRow).toContain("incident.opened");
      await page.screenshot({ path: screenshotPath("06-audit"), fullPage: true });
    },
    TEST_MS,
  );

  /** The audit log's entries about `subject`, oldest first, read through the API. */
  async function auditEntriesOf(
    subject: string,
  ): Promise<{ action: string; reason: string | null }[]> {
    const found: { action: string; reason: string | null }[] = [];
    for (let after = 0; ; ) {
      const read = await server.request("GET", `/v1/audit?afterSequence=${after}&limit=1000`, {
        token: server.adminToken,
      });
      expect(read.status).toBe(200);
      for (const entry of read.body.entries) if (entry.subject === subject) found.push(entry);
      if (read.body.nextAfterSequence === null) return found;
      after = read.body.nextAfterSequence;
    }
  }

  /** Signs whoever is signed in out, and `token` in, through the page. */
  async function signInAs(token: string): Promise<void> {
    await page.goto(`${server.url}/#/changes`);
    const signOut = page.getByRole("button", { name: "Sign out" });
    const field = page.getByLabel("API token");
    await signOut.or(field).first().waitFor();
    if (await signOut.isVisible()) await signOut.click();
    await field.fill(token);
    await page.keyboard.press("Enter");
    await page.getByTestId("signed-in-as").waitFor();
  }

  test(
    "editing a campaign: a lint error and a validation issue beside their fields as one types, then a change request",
    async () => {
      const amy = await server.tokenFor(["author"], "amy");
      await signInAs(amy);
      await page.goto(`${server.url}/#/campaigns/idc-coffee-afternoon-tea`);
      await page.getByRole("link", { name: "Edit this campaign" }).click();
      const status = page.getByTestId("lint-status");
      await expect
        .poll(() => status.textContent(), { timeout: WAIT_MS })
        .toBe("Checked: no findings.");

      // 50.00 yuan off, past the template's band (at most 2.00): lint says so beside the field.
      await page.getByLabel("Amount off (minor units)").fill("5000");
      const offerFindings = page.getByTestId("findings-offer.amountMinor");
      await offerFindings.waitFor({ timeout: WAIT_MS });
      expect(await offerFindings.textContent()).toContain("error");
      expect(await page.getByLabel("Amount off (minor units)").getAttribute("aria-invalid")).toBe(
        "true",
      );
      await page.screenshot({ path: screenshotPath("12-edit-lint-error"), fullPage: true });

      // A budget typed as words: validation names the field.
      await page.getByLabel("Total budget (minor units)").fill("forty thousand");
      await page.getByTestId("findings-limits.totalBudgetMinor").waitFor({ timeout: WAIT_MS });
      expect(
        await page
          .getByRole("button", { name: "Create and submit the change request" })
          .isDisabled(),
      ).toBe(true);

      // Fixed: 1.00 yuan off, a budget of 40,000.00; no error left.
      await page.getByLabel("Total budget (minor units)").fill("4000000");
      await page.getByLabel("Amount off (minor units)").fill("100");
      await expect
        .poll(() => status.textContent(), { timeout: WAIT_MS })
        .toMatch(/^Checked: (no findings|0 error)/);
      expect(await page.getByTestId("findings-offer.amountMinor").count()).toBe(0);
      const acknowledge = page.getByLabel(/warning\(s\) are fine/);
      if ((await acknowledge.count()) > 0)
        await acknowledge.fill("checked with the coffee chain's finance team");
      await page
        .getByLabel("Title", { exact: true })
        .fill("Coffee afternoon tea: 1.00 yuan off, budget 40,000");
      await page.getByRole("button", { name: "Create and submit the change request" }).click();
      await expect.poll(() => page.url(), { timeout: WAIT_MS }).toMatch(/#\/changes\/change-\d+$/);
      await page.getByTestId("money").waitFor();
      expect(await page.getByTestId("change-state").textContent()).toBe("in review");
      expect(await page.getByTestId("why-not").textContent()).toContain("You wrote this change");
    },
    TEST_MS,
  );

  test(
    "editing a template: the campaigns it reaches named first, a warning beside the offer, and a review that lists every campaign it changes",
    async () => {
      const tess = await server.tokenFor(["author"], "tess");
      const documents: { kind: string; id: string; template?: string; offer?: unknown }[] = (
        await server.request("GET", "/v1/documents", { token: tess })
      ).body.documents;
      const users = documents.filter(
        (document) => document.kind === "campaign" && document.template === "instant-discount",
      );
      // A fixed amount reaches the campaigns that do not set their own.
      const inheriting = users
        .filter((campaign) => campaign.offer === undefined)
        .map((campaign) => campaign.id)
        .sort();
      expect(inheriting.length).toBeGreaterThan(1);

      await signInAs(tess);
      await page.getByRole("link", { name: "Templates", exact: true }).click();
      const row = page
        .getByTestId("template-table")
        .locator('tr[data-template="instant-discount"]');
      await row.waitFor();
      expect(await row.getByTestId("template-campaign-count").textContent()).toBe(
        String(users.length),
      );
      await page.screenshot({ path: screenshotPath("15-templates"), fullPage: true });
      await row.getByRole("link", { name: "Edit template instant-discount" }).click();
      expect(await page.getByTestId("template-reach").textContent()).toContain(
        `${users.length} campaign(s) use this template`,
      );
      const status = page.getByTestId("lint-status");
      await expect
        .poll(() => status.textContent(), { timeout: WAIT_MS })
        .toBe("Checked: no findings.");

      // 0.50 yuan off becomes 0.80 for every campaign that inherits it: lint warns beside the
      // offer and names them.
      await page.getByLabel("Offer amount off (minor units)").fill("80");
      const offerFindings = page.getByTestId("findings-offer.amountMinor");
      await offerFindings.waitFor({ timeout: WAIT_MS });
      expect(await offerFindings.textContent()).toContain("lint.template_edit_changes_amount");
      expect(await offerFindings.textContent()).toContain(`${inheriting.length} active campaigns`);
      await page.screenshot({ path: screenshotPath("16-template-edit"), fullPage: true });
      await page
        .getByLabel(/warning\(s\) are fine/)
        .fill("0.80 off agreed with finance for every instant discount");
      await page.getByLabel("Title", { exact: true }).fill("Instant discount: 0.80 yuan off");
      await page.getByRole("button", { name: "Create and submit the change request" }).click();
      await expect.poll(() => page.url(), { timeout: WAIT_MS }).toMatch(/#\/changes\/change-\d+$/);

      // The review: the money moves, and the diff names every campaign the template reaches.
      await page.getByTestId("money").waitFor();
      expect(await page.getByTestId("change-state").textContent()).toBe("in review");
      expect(await page.getByTestId("money-delta").textContent()).toMatch(/^\+/);
      const reach = (await page.getByTestId("template-reach").textContent()) ?? "";
      expect(reach).toContain(`changes ${inheriting.length} campaign(s) through it`);
      const diff = (await page.getByTestId("diff").textContent()) ?? "";
      for (const campaignId of inheriting) {
        expect(reach, campaignId).toContain(campaignId);
        expect(diff, campaignId).toContain(campaignId);
      }
      expect(
        await page.getByTestId("diff").getByText("through its template").count(),
      ).toBeGreaterThanOrEqual(inheriting.length);
      await page.getByTestId("template-reach").scrollIntoViewIfNeeded();
      await page.screenshot({ path: screenshotPath("17-template-change-review"), fullPage: true });
    },
    TEST_MS,
  );

  test(
    "change review: the money first; its author cannot approve and is told why; a reviewer approves",
    async () => {
      // Alice authors a change through the API (the console's editing comes later): a new
      // nationwide QR discount that stacks on the everyday one, so the money moves.
      const alice = await server.tokenFor(["author", "reviewer"], "alice");
      const bob = await server.tokenFor(["reviewer"], "bob");
      const everyday = await server.request(
        "GET",
        "/v1/documents/campaign/idc-national-qr-everyday",
        {
          token: alice,
        },
      );
      const document = {
        ...everyday.body,
        id: "idc-spring-qr-extra",
        name: "Spring QR extra discount",
        stacking: { exclusiveGroup: "spring-extra", priority: 10 },
        limits: { ...everyday.body.limits, totalBudgetMinor: 5_000_000, dailyBudgetMinor: 200_000 },
      };
      const created = await server.request("POST", "/v1/changes", {
        token: alice,
        body: {
          title: "A spring QR discount on top of the everyday one",
          edits: [{ op: "put", document }],
        },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const changeId = created.body.id as string;
      const submitted = await server.request("POST", `/v1/changes/${changeId}/submit`, {
        token: alice,
        body: {
          acknowledgements: [
            {
              findingKey: "lint.scope_everything|campaign/idc-spring-qr-extra|scope",
              reason: "nationwide on purpose, for the spring season",
            },
          ],
        },
      });
      expect(submitted.status, JSON.stringify(submitted.body)).toBe(200);
      expect(submitted.body.state).toBe("in_review");

      await signInAs(alice);
      const link = page.getByRole("link", {
        name: "A spring QR discount on top of the everyday one",
      });
      await link.waitFor();
      await link.click();
      await page.getByTestId("money").waitFor();
      const amount = async (testId: string) =>
        Number((await page.getByTestId(testId).textContent())?.replace(/[^\d.-]/g, ""));
      const now = await amount("money-current");
      const proposed = await amount("money-proposed");
      expect(proposed).toBeGreaterThan(now);
      expect(await page.getByTestId("money-delta").textContent()).toMatch(/^\+/);
      expect(await page.getByTestId("money-region").locator("tbody tr").count()).toBeGreaterThan(
        10,
      );
      // The money comes before the findings and the diff.
      const order = await page.evaluate<string[]>(
        "[...document.querySelectorAll('main h2')].map((heading) => heading.textContent)",
      );
      expect(order.indexOf("Money")).toBeLessThan(order.indexOf("Lint findings"));
      expect(order.indexOf("Lint findings")).toBeLessThan(order.indexOf("What changes"));
      expect(await page.getByTestId("findings").textContent()).toContain("lint.scope_everything");
      expect(await page.getByTestId("diff").textContent()).toContain("idc-spring-qr-extra");
      // Four eyes: its author holds the reviewer role, and still may not approve.
      expect(await page.getByTestId("why-not").textContent()).toContain("You wrote this change");
      expect(await page.getByRole("button", { name: "Approve" }).isDisabled()).toBe(true);
      await page.screenshot({ path: screenshotPath("08-change-review-author"), fullPage: true });

      await signInAs(bob);
      await page.goto(`${server.url}/#/changes/${changeId}`);
      const approve = page.getByRole("button", { name: "Approve" });
      await approve.waitFor();
      expect(await approve.isEnabled()).toBe(true);
      await page.getByTestId("money-region").waitFor();
      await page.screenshot({ path: screenshotPath("09-change-review"), fullPage: true });
      // The README's picture (scripts/readme-screenshots.sh): the first screen, money first.
      await page.screenshot({ path: screenshotPath("readme-change-review") });
      await approve.click();
      await expect
        .poll(() => page.getByTestId("change-state").textContent(), { timeout: WAIT_MS })
        .toBe("approved");
      expect(await page.getByTestId("approvals").textContent()).toContain("bob");
      const stored = await server.request("GET", `/v1/changes/${changeId}`, { token: bob });
      expect(stored.body.approvals).toEqual([
        expect.objectContaining({ reviewerId: "bob", contentHash: created.body.contentHash }),
      ]);
      approvedChangeId = changeId;
    },
    TEST_MS,
  );

  test(
    "rollout: an operator starts the approved change's staged rollout and rolls it back in the page",
    async () => {
      expect(approvedChangeId, "the change review test approves a change").toBeDefined();
      const operator = await server.tokenFor(["operator"], "oncall.rollout");
      await signInAs(operator);
      await page.goto(`${server.url}/#/changes/${approvedChangeId}`);
      await page.getByTestId("rollout").waitFor();
      // A stage plan is checked before it is sent.
      await page.getByLabel("Stages (%)").fill("1, 0.5");
      expect(await page.getByRole("button", { name: "Start rollout" }).isDisabled()).toBe(true);
      await page.getByLabel("Stages (%)").fill("1, 100");
      await page.getByRole("button", { name: "Start rollout" }).click();
      await page.getByRole("button", { name: "Confirm start rollout" }).click();
      await expect
        .poll(() => page.getByTestId("change-state").textContent(), { timeout: WAIT_MS })
        .toBe("rolling out");
      await page.getByTestId("rollout-stages").waitFor();
      expect(await page.getByTestId("rollout-stages").locator("tbody tr").count()).toBe(2);
      expect(
        await page.getByTestId("rollout-stages").locator('tr[aria-current="step"]').textContent(),
      ).toContain("1.00 %");
      await page.screenshot({ path: screenshotPath("11-rollout"), fullPage: true });

      // Rolling back needs a reason: the button waits for one.
      const rollBack = page.getByRole("button", { name: "Roll back" });
      expect(await rollBack.isDisabled()).toBe(true);
      await page
        .getByLabel("Reason (forcing, rollback, kill, pause)")
        .fill("the spring budget is not signed yet: rolled back by on-call");
      await rollBack.click();
      await page.getByRole("button", { name: "Confirm roll back" }).click();
      await expect
        .poll(() => page.getByTestId("change-state").textContent(), { timeout: WAIT_MS })
        .toBe("rolled back");
      const stored = await server.request("GET", `/v1/changes/${approvedChangeId}`, {
        token: operator,
      });
      expect(stored.body.state).toBe("rolled_back");
    },
    TEST_MS,
  );

  /** Asks, through the page, to force `gate` of the change open on the page, and confirms. */
  async function forceThroughPage(gate: string): Promise<void> {
    await page.getByLabel("Reason (forcing, rollback, kill, pause)").fill(FORCE_REASON);
    await page.getByRole("button", { name: `Force ${gate}`, exact: true }).click();
    await page.getByRole("button", { name: `Confirm force ${gate}` }).click();
    await expect
      .poll(() => page.getByTestId("operation-answer").textContent(), { timeout: WAIT_MS })
      .toBe(`Force ${gate}: done.`);
  }

  /** Minor units in a money tile or cell of the page, read back from its major-unit text. */
  async function minorShown(testId: string): Promise<number> {
    const text = (await page.getByTestId(testId).textContent()) ?? "";
    return Math.round(Number(text.replace(/[^\d.-]/g, "")) * 100);
  }

  /**
   * The change page of a submission refused at lint, as an administrator reads it before forcing:
   * the refusal named, the money first — subsidy per hour now and with the change, the API's
   * figures, by scenario, region and funder — then every lint error, each labelled as the
   * refused submission's.
   */
  async function seeRefusedSubmission(
    kept: {
      simulation: { current: { subsidyPerHourMinor: number } };
      proposedSubsidyPerHourMinor: number;
    },
    lintErrors: readonly string[],
    refusal: string,
  ): Promise<void> {
    const notice = page.getByTestId("refused-submission");
    await notice.waitFor();
    expect(await notice.textContent()).toContain("refused at the lint gate (lint_errors)");
    expect(await notice.textContent()).toContain(refusal);
    await page.getByTestId("money").waitFor();
    expect(await page.getByTestId("money-refused").textContent()).toBe(
      "The refused submission's simulation.",
    );
    expect(await minorShown("money-current")).toBe(kept.simulation.current.subsidyPerHourMinor);
    expect(await minorShown("money-proposed")).toBe(kept.proposedSubsidyPerHourMinor);
    expect(kept.proposedSubsidyPerHourMinor).toBeGreaterThan(
      kept.simulation.current.subsidyPerHourMinor,
    );
    expect(await page.getByTestId("money-delta").textContent()).toMatch(/^\+/);
    for (const split of ["money-scenario", "money-region", "money-funder"]) {
      expect(await page.getByTestId(split).locator("tbody tr").count(), split).toBeGreaterThan(0);
    }
    const findings = (await page.getByTestId("findings").textContent()) ?? "";
    for (const code of lintErrors) expect(findings, code).toContain(code);
    expect(await page.getByTestId("findings-refused").textContent()).toContain(
      "The refused submission's findings",
    );
    const order = await page.evaluate<string[]>(
      "[...document.querySelectorAll('main h2')].map((heading) => heading.textContent)",
    );
    expect(order.indexOf("Money")).toBeLessThan(order.indexOf("Lint findings"));
  }

  test(
    "the 2025-01-16 variant: blocked by lint, its findings and money read by two administrators who then force it, rolled out in the page; the breaker trips and its incident has an impact report",
    async () => {
      // The operator's template edit (src/demo/incident-change.ts), sent by its author via the API.
      const olivia = await server.tokenFor(["author"], "olivia");
      const secondAdmin = await server.tokenFor(["admin"], "second.admin");
      const operator = await server.tokenFor(["operator"], "oncall.ops");
      const documents = (await server.request("GET", "/v1/documents", { token: olivia })).body
        .documents;
      const edits = incidentEdits(documents, "variant");
      const created = await server.request("POST", "/v1/changes", {
        token: olivia,
        body: { title: "instant discount: 20 % off", edits },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const changeId = created.body.id as string;
      const blocked = await server.request("POST", `/v1/changes/${changeId}/submit`, {
        token: olivia,
        body: {},
      });
      expect(blocked.body.code).toBe("lint_errors");
      // The refused submission's assessment, as the API keeps it for every reader.
      const kept = (
        await server.request("GET", `/v1/changes/${changeId}`, { token: server.adminToken })
      ).body.assessment;
      expect(kept.refused).toMatchObject({ code: "lint_errors", message: blocked.body.message });
      const lintErrors: string[] = kept.findings
        .filter((finding: { severity: string }) => finding.severity === "error")
        .map((finding: { code: string }) => finding.code);
      expect(lintErrors.length).toBeGreaterThan(0);

      // The first administrator, before forcing anything, reads what they would force: the
      // refused submission's money first, then its lint findings, labelled as the refusal's.
      await signInAs(server.adminToken);
      await page.goto(`${server.url}/#/changes/${changeId}`);
      await seeRefusedSubmission(kept, lintErrors, blocked.body.message);
      await page.screenshot({ path: screenshotPath("10-refused-lint-money"), fullPage: true });
      await page.getByTestId("forces").waitFor();
      await forceThroughPage("lint");
      await forceThroughPage("approval");
      await expect
        .poll(() => page.getByTestId("gate-lint").textContent())
        .toContain("a second administrator must ask");
      expect(await page.getByRole("button", { name: "Force lint", exact: true }).isDisabled()).toBe(
        true,
      );
      await page.screenshot({ path: screenshotPath("10-force-first-admin"), fullPage: true });

      await signInAs(secondAdmin);
      await page.goto(`${server.url}/#/changes/${changeId}`);
      await seeRefusedSubmission(kept, lintErrors, blocked.body.message);
      await page.getByTestId("forces").waitFor();
      await forceThroughPage("lint");
      await forceThroughPage("approval");
      await expect
        .poll(() => page.getByTestId("gate-approval").textContent())
        .toBe("forced by admin and second.admin");

      // Submitted again, the forced approval takes it straight to approved.
      const submitted = await server.request("POST", `/v1/changes/${changeId}/submit`, {
        token: olivia,
        body: {},
      });
      expect(submitted.body.state, JSON.stringify(submitted.body)).toBe("approved");

      // On-call starts the rollout in the page. The demo sends DEMO_TPS payments a second, not
      // a payment platform's thousands: at a 1 % stage the guard would wait minutes for the
      // samples it judges a campaign's subsidy per payment on, so the first stage is 10 %.
      await signInAs(operator);
      await page.goto(`${server.url}/#/changes/${changeId}`);
      await page.getByTestId("change-marks").waitFor();
      expect(await page.getByTestId("change-marks").textContent()).toContain(
        "Forced past lint by admin and second.admin",
      );
      // Submitted past the forced gate, its own assessment replaced the refused one's.
      await page.getByTestId("money").waitFor();
      expect(await page.getByTestId("refused-submission").count()).toBe(0);
      await page.getByLabel("Stages (%)").fill("10, 100");
      await page.getByRole("button", { name: "Start rollout" }).click();
      await page.getByRole("button", { name: "Confirm start rollout" }).click();
      await expect
        .poll(() => page.getByTestId("operation-answer").textContent(), { timeout: WAIT_MS })
        .toBe("Start rollout: done.");

      // The live page, polling, shows the breaker trip on the real traffic the change now serves.
      await page.goto(`${server.url}/#/live`);
      const tripped = page.getByTestId("breakers").locator("tr", { hasText: "tripped" });
      await tripped.first().waitFor({ timeout: TRIP_WAIT_MS });
      const breakerRow = (await tripped.first().textContent()) ?? "";
      expect(breakerRow).toMatch(/^campaign:[\w-]+@\d+/);
      trippedBreakerId = (await tripped.first().locator("th").textContent()) ?? undefined;
      expect(await page.getByText("Every breaker is armed").count()).toBe(0);
      await page.screenshot({ path: screenshotPath("13-live-breaker-tripped"), fullPage: true });

      // The guard rolled the change back and opened an incident: nobody clicked anything.
      await page.goto(`${server.url}/#/changes/${changeId}`);
      await expect
        .poll(() => page.getByTestId("change-state").textContent(), { timeout: WAIT_MS })
        .toBe("rolled back");
      await page.goto(`${server.url}/#/incidents`);
      const incidentLink = page
        .getByTestId("incident-table")
        .getByRole("link", { name: /^breaker campaign:.* tripped/ });
      await incidentLink.waitFor();
      await incidentLink.click();
      await page.getByTestId("timeline").waitFor();
      const timeline = (await page.getByTestId("timeline").textContent()) ?? "";
      for (const kind of ["change_forced", "rollout_stage", "trip", "kill_published", "rollback"]) {
        expect(timeline, kind).toContain(kind);
      }
      const blame = (await page.getByTestId("blame").textContent()) ?? "";
      expect(blame).toContain(changeId);
      expect(breakerRow).toContain(blame.split(",")[0]!.trim());

      // Its impact report, as the page shows it, is the API's for this incident.
      await page.getByTestId("impact").waitFor();
      const incidentId = decodeURIComponent(page.url().split("#/incidents/")[1]!);
      const report = await server.request("GET", `/v1/incidents/${incidentId}/impact`, {
        token: operator,
      });
      expect(report.status).toBe(200);
      expect(await page.getByTestId("impact-payments").textContent()).toBe(
        report.body.totals.payments.toLocaleString("en-US"),
      );
      expect(await page.getByTestId("impact-window-asked").textContent()).toContain("from");
      await page.screenshot({ path: screenshotPath("14-incident-breaker"), fullPage: true });
      breakerIncidentId = incidentId;
      const resaved = edits.find((edit) => edit.op === "put" && edit.document.kind === "campaign");
      if (resaved?.op === "put") forced = { changeId, campaignId: resaved.document.id };
      const audit = await server.request("GET", "/v1/audit/verify", { token: server.adminToken });
      expect(audit.body.ok).toBe(true);
    },
    TRIP_TEST_MS,
  );

  test(
    "a campaign's versions: the forced change's version rolled back, the rollback active; an earlier version against the newest, with the keyboard, then against an older one",
    async () => {
      expect(forced, "the 2025-01-16 test forces a change that re-saves campaigns").toBeDefined();
      const { changeId, campaignId } = forced!;
      const auditor = await server.tokenFor(["auditor"], "auditor.versions");
      await signInAs(auditor);
      await page.goto(`${server.url}/#/campaigns/${campaignId}`);
      const table = page.getByTestId("version-table");
      await table.waitFor();
      // The page's versions are the API's: the import, the forced change, the guard's rollback.
      const history = await server.request("GET", `/v1/documents/campaign/${campaignId}/versions`, {
        token: auditor,
      });
      expect(history.status).toBe(200);
      expect(
        history.body.versions.map((v: { version: number; state: string }) => [v.version, v.state]),
      ).toEqual([
        [3, "active"],
        [2, "rolled_back"],
        [1, "superseded"],
      ]);
      const rows = table.locator("tbody tr");
      expect(await rows.count()).toBe(3);
      const states: (string | null)[] = [];
      for (let index = 0; index < 3; index += 1)
        states.push(await rows.nth(index).getAttribute("data-state"));
      expect(states).toEqual(["active", "rolled_back", "superseded"]);
      const newest = (await page.getByTestId("version-3").textContent()) ?? "";
      expect(newest).toContain("rollback of");
      expect(newest).toContain(`${changeId}/rollback`);
      expect(newest).toContain("in force");
      const rolledBack = (await page.getByTestId("version-2").textContent()) ?? "";
      expect(rolledBack).toContain("rolled back");
      expect(rolledBack).toContain("Forced past lint by admin and second.admin");
      expect(rolledBack).toContain("olivia");

      // Keyboard only: focus version 2's button, press Enter; what it held that the newest
      // does not is listed field by field — it took the offer from the 20 % template.
      await page.getByRole("button", { name: /^Version 2, rolled back/ }).focus();
      await page.keyboard.press("Enter");
      const differences = page.getByTestId("version-differences");
      await differences.waitFor();
      const shown = (await differences.textContent()) ?? "";
      expect(shown).toContain("offer");
      expect(shown).toContain("Version 2");
      expect(shown).toContain("Version 3 (newest)");
      await page.screenshot({ path: screenshotPath("14b-campaign-versions"), fullPage: true });

      // Against another version than the newest: version 1, whose content the rollback restored,
      // differs from version 2 as the newest does.
      await page.getByTestId("version-against").selectOption("1");
      await expect
        .poll(async () => (await differences.textContent()) ?? "", { timeout: WAIT_MS })
        .toContain("Version 1");
      const againstFirst = (await differences.textContent()) ?? "";
      expect(againstFirst).toContain("offer");
      expect(againstFirst).toContain("Version 2");
      expect(againstFirst).not.toContain("(newest)");
      expect(await page.getByTestId("version-comparison").locator("h3").textContent()).toBe(
        "Version 2 against version 1",
      );

      // Each version links the change behind it.
      await page.getByTestId("version-2").getByRole("link").click();
      await expect.poll(() => page.url()).toContain(`#/changes/${changeId}`);
      await page.getByTestId("change-state").waitFor();
    },
    TEST_MS,
  );

  test(
    "on-call acts on the breaker's incident in the page: acknowledge, note, raise, mitigate, remediate, resolve",
    async () => {
      expect(breakerIncidentId, "the 2025-01-16 test's breaker opens an incident").toBeDefined();
      const operator = await server.tokenFor(["operator"], "oncall.li");
      await signInAs(operator);
      await page.goto(`${server.url}/#/incidents/${breakerIncidentId}`);
      const actions = page.getByTestId("incident-actions");
      await actions.waitFor();
      const answer = page.getByTestId("incident-action-answer");
      const reason = page.getByLabel("Reason or note");
      const done = (what: string) =>
        expect.poll(() => answer.textContent(), { timeout: WAIT_MS }).toBe(`${what}: done.`);
      const timeline = () => page.getByTestId("timeline").textContent();

      await page.getByRole("button", { name: "Acknowledge" }).click();
      await done("Acknowledge");
      await expect
        .poll(() => page.getByRole("button", { name: "Acknowledge" }).isDisabled())
        .toBe(true);
      expect(await actions.textContent()).toContain("Acknowledged by oncall.li already.");

      // Resolving first is refused before any click: the money must be stopped and the remediation
      // recorded.
      await reason.fill("the guard rolled change back and killed the campaign");
      expect(await page.getByRole("button", { name: "Resolve" }).isDisabled()).toBe(true);
      expect(await actions.textContent()).toContain("Mitigate it first");

      await page.getByRole("button", { name: "Add note", exact: true }).click();
      await done("Add note");
      await expect.poll(timeline).toContain("the guard rolled change back and killed the campaign");

      await reason.fill("the 20 % template edit reached every online checkout in China");
      await page.getByLabel("Severity").selectOption("P2");
      await page.getByRole("button", { name: "Raise severity" }).click();
      await done("Raise");
      await expect.poll(() => page.locator("h1 .badge").textContent()).toBe("P2");

      await reason.fill("rolled back and killed by the guard; no 20 % grant since the trip");
      await page.getByRole("button", { name: "Mitigate", exact: true }).click();
      await page.getByRole("button", { name: "Confirm mitigate" }).click();
      await done("Mitigate");
      await expect
        .poll(() => page.locator(".page-head .meta").textContent())
        .toContain("mitigated");

      await reason.fill("absorb what was committed; finance agreed, nobody is asked to pay back");
      await page.getByLabel(/^Cost absorbed/).fill("0");
      await page.getByRole("button", { name: "Record remediation" }).click();
      await page.getByRole("button", { name: "Confirm record remediation" }).click();
      await done("Record remediation");
      await page.getByTestId("remediation").waitFor();
      expect(await page.getByTestId("remediation").textContent()).toContain("oncall.li");

      await reason.fill("contained by the guard within seconds; remediation recorded");
      await page.getByRole("button", { name: "Resolve", exact: true }).click();
      await page.getByRole("button", { name: "Confirm resolve" }).click();
      await done("Resolve");
      await expect.poll(() => page.locator(".page-head .meta").textContent()).toContain("resolved");
      expect(await page.getByTestId("impact-window-asked").textContent()).toContain(
        "the resolution at",
      );
      await page.screenshot({ path: screenshotPath("18-incident-resolved"), fullPage: true });

      const stored = await server.request("GET", `/v1/incidents/${breakerIncidentId}`, {
        token: operator,
      });
      expect(stored.body).toMatchObject({
        state: "resolved",
        severity: "P2",
        acknowledged: { byId: "oncall.li" },
        remediation: { decidedById: "oncall.li", costAbsorbedMinor: 0 },
      });
      const kinds = stored.body.timeline.map((entry: { kind: string }) => entry.kind);
      for (const kind of ["acknowledged", "note", "mitigated", "remediation", "resolved"]) {
        expect(kinds, kind).toContain(kind);
      }
    },
    TEST_MS,
  );

  test(
    "on-call acknowledges the tripped breaker on the live page, then resets it; never straight from tripped",
    async () => {
      expect(trippedBreakerId, "the 2025-01-16 test sees a breaker trip").toBeDefined();
      const breakerId = trippedBreakerId!;
      const row = page.locator(`tr[data-breaker="${breakerId}"]`);
      const state = row.getByTestId("breaker-state");
      // An administrator reads breakers but is not on-call: no buttons.
      await signInAs(server.adminToken);
      await page.goto(`${server.url}/#/live`);
      await row.waitFor();
      expect(await state.textContent()).toBe("tripped");
      expect(await row.getByRole("button").count()).toBe(0);

      const operator = await server.tokenFor(["operator"], "oncall.breakers");
      await signInAs(operator);
      await page.goto(`${server.url}/#/live`);
      await row.waitFor();
      // Reset waits for an acknowledgement, and says so.
      const reset = row.getByRole("button", { name: "Reset", exact: true });
      expect(await reset.isDisabled()).toBe(true);
      expect(await row.textContent()).toContain(
        "Acknowledge it first: a breaker is never reset straight from tripped.",
      );
      // Why, optionally: audited with the move.
      const why = "the partner's on-call confirmed a misconfigured flash sale";
      await row.getByLabel(/^Why \(optional, audited with the move\)/).fill(why);
      await row.getByRole("button", { name: "Acknowledge", exact: true }).click();
      await row.getByRole("button", { name: "Confirm acknowledge" }).click();
      await expect.poll(() => state.textContent(), { timeout: WAIT_MS }).toBe("acknowledged");
      const audited = await auditEntriesOf(`breaker/${breakerId}`);
      expect(audited.map(({ action, reason }) => ({ action, reason }))).toEqual([
        { action: "breaker.acknowledged", reason: why },
      ]);
      const breakers = async () =>
        (await server.request("GET", "/v1/breakers", { token: operator })).body.breakers.find(
          (breaker: { breakerId: string }) => breaker.breakerId === breakerId,
        )?.state;
      expect(await breakers()).toBe("acknowledged");
      await page.screenshot({
        path: screenshotPath("19-live-breaker-acknowledged"),
        fullPage: true,
      });

      await expect.poll(() => reset.isEnabled(), { timeout: WAIT_MS }).toBe(true);
      await reset.click();
      await row.getByRole("button", { name: "Confirm reset" }).click();
      await expect.poll(() => state.textContent(), { timeout: WAIT_MS }).toBe("armed");
      expect(await breakers()).toBe("armed");
      // The field was emptied after the acknowledgement: the reset went without a reason.
      expect((await auditEntriesOf(`breaker/${breakerId}`)).map(({ reason }) => reason)).toEqual([
        why,
        null,
      ]);
      // Still armed two polls later: the page shows the server's state, not only its own answer.
      await page.waitForTimeout(4_500);
      expect(await state.textContent()).toBe("armed");
      expect(await row.getByRole("button", { name: "Acknowledge", exact: true }).isDisabled()).toBe(
        true,
      );
    },
    TEST_MS,
  );

  test(
    "an operator lowers a running campaign's limits and pauses it from its page; the list shows it paused; a pause raced by another operator is refused with the API's message",
    async () => {
      // Neither campaign is touched by the other tests (the 2025-01-16 variant re-saves the
      // instant-discount template's campaigns; these use spend-and-save).
      const campaignId = "sas-national-online-mall";
      const racedId = "sas-rail-travel-tickets";
      const operator = await server.tokenFor(["operator"], "oncall.pause");
      const reviewer = await server.tokenFor(["reviewer"], "rita.review");
      const documentOf = async (id: string) =>
        (await server.request("GET", `/v1/documents/campaign/${id}`, { token: operator })).body;
      const before = await documentOf(campaignId);
      expect(before.paused).toBeUndefined();

      // Not an operator: no pause, no lowering.
      await signInAs(reviewer);
      await page.goto(`${server.url}/#/campaigns/${campaignId}`);
      await page.getByTestId("campaign-facts").waitFor();
      expect(await page.getByTestId("campaign-actions").count()).toBe(0);

      await signInAs(operator);
      await page.goto(`${server.url}/#/campaigns/${campaignId}`);
      const actions = page.getByTestId("campaign-actions");
      await actions.waitFor();
      expect(await page.getByTestId("campaign-status").textContent()).toBe("running");
      const pause = actions.getByRole("button", { name: "Pause", exact: true });
      // Both wait for a reason.
      expect(await pause.isDisabled()).toBe(true);
      await page
        .getByLabel("Reason (pause, lower limits)")
        .fill("the mall's coupon partner asked to stop it today");

      // A raise is refused beside the field before anything is sent.
      const total = page.getByLabel("Total budget");
      const lower = actions.getByRole("button", { name: "Lower limits", exact: true });
      await total.fill(String(before.limits.totalBudgetMinor + 1));
      expect(await page.getByTestId("lower-limits").textContent()).toContain(
        "raising is a change request",
      );
      expect(await lower.isDisabled()).toBe(true);
      const lowered = before.limits.totalBudgetMinor - 100_000_000;
      await total.fill(String(lowered));
      await lower.click();
      await actions.getByRole("button", { name: "Confirm lower limits" }).click();
      const answer = actions.getByTestId("campaign-action-answer");
      await expect
        .poll(() => answer.textContent(), { timeout: WAIT_MS })
        .toMatch(/^Lower limits: done, recorded as change-\d+\.$/);
      expect((await documentOf(campaignId)).limits).toEqual({
        ...before.limits,
        totalBudgetMinor: lowered,
      });

      await pause.click();
      await actions.getByRole("button", { name: "Confirm pause" }).click();
      await expect
        .poll(() => answer.textContent(), { timeout: WAIT_MS })
        .toMatch(/^Pause: done, recorded as change-\d+\.$/);
      const pauseChangeId = ((await answer.textContent()) ?? "").match(/change-\d+/)![0];
      await expect
        .poll(() => page.getByTestId("campaign-status").textContent(), { timeout: WAIT_MS })
        .toBe("paused");
      await page.getByTestId("campaign-paused").waitFor();
      // Its versions, read again at once: the lowering, then the pause, each an operator's action.
      const paused = page.getByTestId("version-3");
      await expect.poll(() => paused.textContent(), { timeout: WAIT_MS }).toContain(pauseChangeId);
      expect(await paused.textContent()).toContain("operator's pause, without review");
      expect(await page.getByTestId("version-2").textContent()).toContain(
        "operator's lower limits",
      );
      expect(await page.getByTestId("pause-why").textContent()).toBe(
        "Paused already; resuming is a change request.",
      );
      expect(await pause.isDisabled()).toBe(true);
      await page.screenshot({ path: screenshotPath("20-campaign-paused"), fullPage: true });
      // The API's record: the document paused, the pause an operator's action born active.
      expect((await documentOf(campaignId)).paused).toBe(true);
      const change = await server.request("GET", `/v1/changes/${pauseChangeId}`, {
        token: operator,
      });
      expect(change.body).toMatchObject({
        state: "active",
        operatorAction: {
          kind: "pause",
          reason: "the mall's coupon partner asked to stop it today",
        },
      });
      // The answer links the pause's change.
      await answer.getByRole("link", { name: pauseChangeId }).click();
      await expect.poll(() => page.url()).toContain(`#/changes/${pauseChangeId}`);

      await page.goto(`${server.url}/#/campaigns`);
      const listed = page.locator(`tr[data-campaign="${campaignId}"]`);
      await listed.waitFor();
      expect(await listed.textContent()).toContain("paused");

      // Two on-calls at once: the page still says running when another operator pauses it
      // through the API; this one's pause is refused, the API's message beside the button.
      await page.goto(`${server.url}/#/campaigns/${racedId}`);
      await actions.waitFor();
      expect(await page.getByTestId("campaign-status").textContent()).toBe("running");
      const other = await server.tokenFor(["operator"], "oncall.other");
      const first = await server.request("POST", `/v1/campaigns/${racedId}/pause`, {
        token: other,
        body: { reason: "rail partner outage, paused from the command line" },
      });
      expect(first.status, JSON.stringify(first.body)).toBe(200);
      await page
        .getByLabel("Reason (pause, lower limits)")
        .fill("rail partner outage, paused from the console");
      await pause.click();
      await actions.getByRole("button", { name: "Confirm pause" }).click();
      await expect
        .poll(() => answer.textContent(), { timeout: WAIT_MS })
        .toContain(`campaign ${racedId} is paused already (not_a_pause`);
      // Then the page shows what is in force.
      await expect
        .poll(() => page.getByTestId("campaign-status").textContent(), { timeout: WAIT_MS })
        .toBe("paused");
    },
    TEST_MS,
  );

  test(
    "on the forced 2025-01-16 change's page, an operator pauses one of its campaigns, then all the others with one confirmation",
    async () => {
      // After the versions test, which reads these campaigns' versions as the guard left them.
      expect(forced, "the 2025-01-16 test forces a change that re-saves campaigns").toBeDefined();
      const { changeId, campaignId } = forced!;
      const operator = await server.tokenFor(["operator"], "oncall.pause.all");
      await signInAs(operator);
      await page.goto(`${server.url}/#/changes/${changeId}`);
      const block = page.getByTestId("pause-campaigns");
      await block.waitFor();
      const reached = block.locator("li[data-campaign]");
      const count = await reached.count();
      expect(count).toBeGreaterThan(2);
      await page
        .getByLabel("Reason (forcing, rollback, kill, pause)")
        .fill("keep the 20 % template's campaigns off until the template is fixed");

      // One at a time: the campaign the breaker's test re-saved.
      const one = block.locator(`li[data-campaign="${campaignId}"]`);
      await one.getByRole("button", { name: `Pause ${campaignId}`, exact: true }).click();
      await one.getByRole("button", { name: `Confirm pause ${campaignId}` }).click();
      await expect
        .poll(() => one.textContent(), { timeout: WAIT_MS })
        .toMatch(/Paused, recorded as change-\d+\./);
      await expect
        .poll(() => one.textContent(), { timeout: WAIT_MS })
        .toContain("Paused already; resuming is a change request.");

      // The rest with one confirmation.
      const all = block.getByRole("button", { name: `Pause all ${count - 1}`, exact: true });
      await all.click();
      await block.getByRole("button", { name: `Confirm pause all ${count - 1}` }).click();
      await expect
        .poll(() => block.getByTestId("pause-all-answer").textContent(), { timeout: WAIT_MS })
        .toBe(`Paused ${count - 1} of ${count - 1}.`);
      await page.screenshot({ path: screenshotPath("21-change-campaigns-paused"), fullPage: true });
      const ids: string[] = [];
      for (let index = 0; index < count; index += 1) {
        ids.push((await reached.nth(index).getAttribute("data-campaign")) ?? "");
      }
      const listed = (await server.request("GET", "/v1/campaigns", { token: operator })).body
        .campaigns as { id: string; phase: string }[];
      for (const id of ids) {
        expect(listed.find((row) => row.id === id)?.phase, id).toBe("paused");
      }
      await expect
        .poll(() => block.getByRole("button", { name: /^Pause all/ }).isDisabled(), {
          timeout: WAIT_MS,
        })
        .toBe(true);
    },
    TEST_MS,
  );

  test(
    "fits a tablet's width: the page itself never scrolls sideways",
    async () => {
      await page.setViewportSize({ width: 768, height: 1024 });
      for (const route of [
        "#/campaigns",
        "#/campaigns/idc-national-qr-everyday",
        "#/templates",
        "#/templates/instant-discount/edit",
        "#/changes",
        "#/live",
        "#/incidents",
        "#/audit",
      ]) {
        await page.goto(`${server.url}/${route}`);
        await page.locator("main h1").first().waitFor();
        await page.waitForLoadState("networkidle").catch(() => {});
        // A string, evaluated in the page: the tests' own TypeScript has no DOM library.
        const overflow = await page.evaluate<number>(
          "document.documentElement.scrollWidth - document.documentElement.clientWidth",
        );
        expect(overflow, route).toBeLessThanOrEqual(0);
      }
      await page.goto(`${server.url}/#/campaigns`);
      await page.getByTestId("campaign-table").waitFor();
      await page.screenshot({ path: screenshotPath("07-campaigns-tablet"), fullPage: false });
      await page.setViewportSize({ width: 1366, height: 900 });
    },
    TEST_MS,
  );

  test(
    "signs out: the token is forgotten, and a reload shows the sign-in page",
    async () => {
      await page.getByRole("button", { name: "Sign out" }).click();
      await page.getByLabel("API token").waitFor();
      expect(await page.evaluate<number>("sessionStorage.length")).toBe(0);
      await page.reload();
      await page.getByLabel("API token").waitFor();
      expect(await page.getByTestId("signed-in-as").count()).toBe(0);
    },
    TEST_MS,
  );

  test("the page requested nothing outside its own origin", () => {
    const origin = new URL(server.url).origin;
    expect(requested.length).toBeGreaterThan(10);
    const foreign = requested.filter(
      (url) =>
        !url.startsWith("data:") && !url.startsWith("blob:") && new URL(url).origin !== origin,
    );
    expect(foreign).toEqual([]);
  });
});
