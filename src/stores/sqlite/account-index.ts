/**
 * The counters of every account the ledger has drawn on, by name, held in memory by the SQLite
 * store (ADR 0009): a million accounts and more, looked up ~22 times per payment.
 *
 * Per-identity accounts (`identity/K/…`, src/core/ledger/plan-reservation.ts) are most of them:
 * a few per person per campaign and day. They are kept under their identity's prefix
 * (`identity/K/`), each by the rest of its name (`day/C/DATE`, `campaign/C`, …), a string many
 * people's accounts share. A planned debit brings both parts (`AccountNameParts`): the prefix is
 * one string per payer, so the last few identities are remembered and found by reference, and
 * the suffix one string per campaign and day whose hash is already known — no long name is
 * hashed or compared. Without the parts (a name read from the file) the name is split the same
 * way. Every other account (budgets, daily budgets) is in a plain map by its name.
 */
import { type AccountCounters, zeroCounters } from "../../core/ledger/ledger-book.ts";
import { type AccountNameParts, identityNameEnd } from "../../core/ledger/reservation.ts";

/** Identities remembered from the last lookups (a payment has at most three). */
const RECENT_IDENTITIES = 4;

type Accounts = Map<string, AccountCounters>;

export class AccountIndex {
  private readonly others: Accounts = new Map();
  private readonly identities = new Map<string, Accounts>();
  /** One string per suffix, shared by every identity's account with it. */
  private readonly suffixes = new Map<string, string>();
  private readonly recentPrefixes: (string | undefined)[] = new Array(RECENT_IDENTITIES).fill(
    undefined,
  );
  private readonly recentAccounts: (Accounts | undefined)[] = new Array(RECENT_IDENTITIES).fill(
    undefined,
  );
  private recentNext = 0;
  private count = 0;

  /** Accounts held. */
  get size(): number {
    return this.count;
  }

  get(name: string, parts?: AccountNameParts): AccountCounters | undefined {
    let prefix = parts?.identityPrefix;
    let suffix = parts?.identitySuffix;
    if (prefix === undefined || suffix === undefined) {
      const end = identityNameEnd(name);
      if (end < 0) return this.others.get(name);
      prefix = name.slice(0, end + 1);
      suffix = name.slice(end + 1);
    }
    return this.accountsOf(prefix, false)?.get(suffix);
  }

  /** The account's counters, created at zero when missing. */
  getOrCreate(name: string, parts?: AccountNameParts): AccountCounters {
    let prefix = parts?.identityPrefix;
    let suffix = parts?.identitySuffix;
    if (prefix === undefined || suffix === undefined) {
      const end = identityNameEnd(name);
      if (end < 0) return this.getOrCreateIn(this.others, name);
      prefix = name.slice(0, end + 1);
      suffix = name.slice(end + 1);
    }
    return this.getOrCreateIn(this.accountsOf(prefix, true)!, suffix);
  }

  /** Every account with its counters, by full name. */
  *entries(): Generator<readonly [string, AccountCounters]> {
    yield* this.others;
    for (const [prefix, accounts] of this.identities) {
      for (const [suffix, account] of accounts) yield [prefix + suffix, account];
    }
  }

  private getOrCreateIn(accounts: Accounts, key: string): AccountCounters {
    let account = accounts.get(key);
    if (account === undefined) {
      account = zeroCounters();
      accounts.set(accounts === this.others ? key : this.intern(key), account);
      this.count += 1;
    }
    return account;
  }

  /** The accounts of the identity whose names start with `prefix`. */
  private accountsOf(prefix: string, create: boolean): Accounts | undefined {
    for (let index = 0; index < RECENT_IDENTITIES; index += 1) {
      if (this.recentPrefixes[index] === prefix) return this.recentAccounts[index];
    }
    let accounts = this.identities.get(prefix);
    if (accounts === undefined) {
      if (!create) return undefined;
      accounts = new Map();
      this.identities.set(prefix, accounts);
    }
    this.recentPrefixes[this.recentNext] = prefix;
    this.recentAccounts[this.recentNext] = accounts;
    this.recentNext = (this.recentNext + 1) % RECENT_IDENTITIES;
    return accounts;
  }

  private intern(suffix: string): string {
    const known = this.suffixes.get(suffix);
    if (known !== undefined) return known;
    this.suffixes.set(suffix, suffix);
    return suffix;
  }
}
