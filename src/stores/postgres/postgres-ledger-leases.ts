/**
 * Budget leases (ADR 0008): this process's slices of funded budgets, taken from the store so that
 * reservations can draw on them without locking the budget's row for a whole transaction.
 *
 * The store never hands out more than a budget's available money (grants are decided under the
 * account's row lock: `available = funded - leased - reserved - spent`), so no interleaving of
 * processes can overspend. A lease lives until `expires_at_ms` by the server's clock; this
 * process stops using it a margin earlier by its own monotonic clock, so a process cut off from
 * the database never spends money the store has already reclaimed. Any process reclaims expired
 * leases of the accounts it leases.
 */
import type pg from "pg";

export interface LeaseSettings {
  /** Who holds the leases (shown in the leases table). */
  readonly holder: string;
  readonly ttlMs: number;
  /** This process stops using a lease this long before the store may reclaim it. */
  readonly marginMs: number;
  /** The smallest grant, so that a trickle of payments still takes few leases. */
  readonly grantMinMinor: number;
  /**
   * Budgets with less than this available (outside leases) get no new lease: near exhaustion
   * every batch decides on the locked row, exactly, and only money already leased can be held
   * away from other processes (reported as stranded) until its holder spends or returns it.
   */
  readonly floorMinor: number;
}

interface HeldLease {
  readonly leaseId: number;
  unusedMinor: number;
  /** By `performance.now()`. */
  usableUntilMs: number;
}

/** The server's clock in milliseconds, the one every lease time is on. */
export const SERVER_NOW_MS = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

export class LeaseHolder {
  private readonly held = new Map<string, HeldLease>();

  constructor(private readonly settings: LeaseSettings) {}

  /** Unused money of this process's usable lease on the account (0 without one). */
  unused(account: string): number {
    return this.usable(account)?.unusedMinor ?? 0;
  }

  /** Money held in this process's leases: stranded if it stopped now. */
  heldMinor(): number {
    let sum = 0;
    for (const lease of this.held.values()) sum += lease.unusedMinor;
    return sum;
  }

  private usable(account: string): HeldLease | undefined {
    const lease = this.held.get(account);
    if (lease === undefined || performance.now() >= lease.usableUntilMs) return undefined;
    return lease;
  }

  /**
   * Tops up this process's leases so that each account can cover `demand` (money the next batch
   * may reserve on it), in one short transaction on `client`: grants twice the shortfall, at
   * least `grantMinMinor`, at most a quarter of what is available, nothing below `floorMinor`.
   * Reclaims expired leases of these accounts first, anyone's.
   */
  async ensure(client: pg.ClientBase, demand: ReadonlyMap<string, number>): Promise<void> {
    const short = [...demand]
      .filter(([account, minor]) => this.unused(account) < minor)
      .map(([account]) => account)
      .sort(compareCodeUnits);
    if (short.length === 0) return;
    await client.query("BEGIN");
    try {
      const granted = await this.grant(client, short, demand);
      await client.query("COMMIT");
      const usableUntilMs = performance.now() + this.settings.ttlMs - this.settings.marginMs;
      for (const { account, leaseId, unusedMinor } of granted) {
        this.held.set(account, { leaseId, unusedMinor, usableUntilMs });
      }
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      // Whether the grant committed is unknown: forget these leases; the store reclaims them.
      for (const account of short) this.held.delete(account);
      throw error;
    }
  }

  private async grant(
    client: pg.ClientBase,
    accounts: readonly string[],
    demand: ReadonlyMap<string, number>,
  ): Promise<{ account: string; leaseId: number; unusedMinor: number }[]> {
    const locked = await client.query<{
      account: string;
      funded_minor: number;
      leased_minor: number;
      reserved_minor: number;
      spent_minor: number;
    }>(
      `SELECT account, funded_minor, leased_minor, reserved_minor, spent_minor FROM accounts
       WHERE account = ANY($1::text[]) ORDER BY account FOR UPDATE`,
      [accounts],
    );
    const reclaimedBy = await this.reclaimExpired(client, accounts);
    const granted: { account: string; leaseId: number; unusedMinor: number }[] = [];
    for (const row of locked.rows) {
      const leased = row.leased_minor - (reclaimedBy.get(row.account) ?? 0);
      const available = row.funded_minor - leased - row.reserved_minor - row.spent_minor;
      const current = this.held.get(row.account);
      const shortfall = (demand.get(row.account) ?? 0) - (current?.unusedMinor ?? 0);
      // At most a quarter of what is available, so that other processes find money too.
      const grant =
        available < this.settings.floorMinor
          ? 0
          : Math.max(
              0,
              Math.min(
                Math.floor(available / 4),
                Math.max(2 * shortfall, this.settings.grantMinMinor),
              ),
            );
      await client.query("UPDATE accounts SET leased_minor = $2 WHERE account = $1", [
        row.account,
        leased + grant,
      ]);
      if (current !== undefined) {
        const renewed = await client.query<{ unused_minor: number }>(
          `UPDATE leases SET unused_minor = unused_minor + $2,
             expires_at_ms = ${SERVER_NOW_MS} + $3
           WHERE lease_id = $1 RETURNING unused_minor`,
          [current.leaseId, grant, this.settings.ttlMs],
        );
        if (renewed.rows[0] !== undefined) {
          granted.push({
            account: row.account,
            leaseId: current.leaseId,
            unusedMinor: renewed.rows[0].unused_minor,
          });
          continue;
        }
      }
      const inserted = await client.query<{ lease_id: number }>(
        `INSERT INTO leases (account, holder, unused_minor, expires_at_ms)
         VALUES ($1, $2, $3, ${SERVER_NOW_MS} + $4) RETURNING lease_id`,
        [row.account, this.settings.holder, grant, this.settings.ttlMs],
      );
      granted.push({
        account: row.account,
        leaseId: inserted.rows[0]!.lease_id,
        unusedMinor: grant,
      });
    }
    return granted;
  }

  /**
   * Inside a transaction that has locked the accounts: deletes their leases that expired by the
   * server's clock, anyone's (a holder that died, or one that stopped using them), and returns the
   * unused money per account, for the caller to take off `leased_minor`.
   */
  async reclaimExpired(
    client: pg.ClientBase,
    accounts: readonly string[],
  ): Promise<Map<string, number>> {
    const reclaimed = await client.query<{
      account: string;
      lease_id: number;
      unused_minor: number;
    }>(
      `DELETE FROM leases WHERE account = ANY($1::text[]) AND expires_at_ms <= ${SERVER_NOW_MS}
       RETURNING account, lease_id, unused_minor`,
      [accounts],
    );
    const reclaimedBy = new Map<string, number>();
    for (const row of reclaimed.rows) {
      reclaimedBy.set(row.account, (reclaimedBy.get(row.account) ?? 0) + row.unused_minor);
      if (this.held.get(row.account)?.leaseId === row.lease_id) this.held.delete(row.account);
    }
    return reclaimedBy;
  }

  /**
   * Inside a batch's transaction, after the budget rows are locked: takes `used` from each lease
   * and extends it. False when a lease is gone or expired by the server's clock (the batch must
   * then be decided again without leases).
   */
  async spend(client: pg.ClientBase, used: ReadonlyMap<string, number>): Promise<boolean> {
    for (const [account, minor] of [...used].sort(([left], [right]) =>
      compareCodeUnits(left, right),
    )) {
      const lease = this.usable(account);
      if (lease === undefined || lease.unusedMinor < minor) return false;
      const spent = await client.query(
        `UPDATE leases SET unused_minor = unused_minor - $2, expires_at_ms = ${SERVER_NOW_MS} + $3
         WHERE lease_id = $1 AND expires_at_ms > ${SERVER_NOW_MS} AND unused_minor >= $2`,
        [lease.leaseId, minor, this.settings.ttlMs],
      );
      if (spent.rowCount !== 1) return false;
    }
    return true;
  }

  /** After the batch that spent `used` committed. */
  spent(used: ReadonlyMap<string, number>): void {
    const usableUntilMs = performance.now() + this.settings.ttlMs - this.settings.marginMs;
    for (const [account, minor] of used) {
      const lease = this.held.get(account);
      if (lease === undefined) continue;
      lease.unusedMinor -= minor;
      lease.usableUntilMs = usableUntilMs;
    }
  }

  /**
   * Inside a transaction that has locked the accounts: gives this process's leases on them back
   * (`leased -= unused`), so that a batch decided without leases can use that money. Returns the
   * money given back per account, for the caller to take off `leased_minor`.
   */
  async giveBack(client: pg.ClientBase, accounts: readonly string[]): Promise<Map<string, number>> {
    const returned = new Map<string, number>();
    const ids = accounts
      .map((account) => this.held.get(account)?.leaseId)
      .filter((id): id is number => id !== undefined);
    if (ids.length === 0) return returned;
    const deleted = await client.query<{ account: string; unused_minor: number }>(
      "DELETE FROM leases WHERE lease_id = ANY($1::bigint[]) RETURNING account, unused_minor",
      [ids],
    );
    for (const row of deleted.rows) {
      returned.set(row.account, (returned.get(row.account) ?? 0) + row.unused_minor);
    }
    return returned;
  }

  /** After the transaction that gave these accounts' leases back committed. */
  forget(accounts: Iterable<string>): void {
    for (const account of accounts) this.held.delete(account);
  }

  /** Forgets every lease (after an ambiguous commit): the store reclaims them at expiry. */
  forgetAll(): void {
    this.held.clear();
  }

  /** Gives every lease back, in one transaction of its own (at close). */
  async returnAll(client: pg.ClientBase): Promise<void> {
    const accounts = [...this.held.keys()].sort(compareCodeUnits);
    if (accounts.length === 0) return;
    await client.query("BEGIN");
    try {
      await client.query(
        "SELECT account FROM accounts WHERE account = ANY($1::text[]) ORDER BY account FOR UPDATE",
        [accounts],
      );
      const returned = await this.giveBack(client, accounts);
      for (const [account, minor] of returned) {
        await client.query(
          "UPDATE accounts SET leased_minor = leased_minor - $2 WHERE account = $1",
          [account, minor],
        );
      }
      await client.query("COMMIT");
      this.held.clear();
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    }
  }
}

export function compareCodeUnits(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}
