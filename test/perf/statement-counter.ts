import type { PGlite, Transaction } from "@electric-sql/pglite";
import pg from "pg";

/**
 * Counts what a Postern process asks of its database: every statement sent (a round trip each) and
 * every commit. A commit is an explicit COMMIT, or a statement that writes outside a transaction
 * (PostgreSQL commits each such statement on its own). Wraps the drivers themselves, so Drizzle,
 * pg-boss and raw SQL are all seen.
 */
export class StatementCounter {
  statements = 0;
  commits = 0;
  readonly texts: string[] = [];
  private restore: (() => void) | undefined;

  reset(): void {
    this.statements = 0;
    this.commits = 0;
    this.texts.length = 0;
  }

  /** Statement texts grouped by their first words, most frequent first (for the test's printout). */
  summary(): string {
    const byKind = new Map<string, number>();
    for (const text of this.texts) {
      const kind = text.replace(/\s+/g, " ").trim().slice(0, 70);
      byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
    }
    return [...byKind.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([kind, n]) => `  ${String(n).padStart(6)}  ${kind}`)
      .join("\n");
  }

  private record(text: string, inTransaction: boolean): void {
    this.statements++;
    this.texts.push(text);
    if (/^\s*commit\b/i.test(text)) this.commits++;
    else if (!inTransaction && writes(text)) this.commits++;
  }

  /** Every node-postgres client of this process (the app's pool and pg-boss's). */
  watchPostgres(): void {
    const proto = pg.Client.prototype as unknown as {
      query: (...args: unknown[]) => unknown;
    };
    const original = proto.query;
    const open = new WeakSet<object>();
    const counter = this;
    proto.query = function (this: object, ...args: unknown[]) {
      const first = args[0];
      const text = typeof first === "string" ? first : ((first as { text?: string })?.text ?? "");
      if (/^\s*begin\b/i.test(text)) open.add(this);
      counter.record(text, open.has(this) && !/^\s*begin\b/i.test(text));
      if (/^\s*(commit|rollback)\b/i.test(text)) open.delete(this);
      return original.apply(this, args);
    };
    this.restore = () => {
      proto.query = original;
    };
  }

  /** One PGlite instance: its queries, its exec calls and its transactions (BEGIN and COMMIT each count). */
  watchPglite(db: PGlite): void {
    const counter = this;
    const query = db.query.bind(db);
    const exec = db.exec.bind(db);
    const transaction = db.transaction.bind(db);
    const wrapped = db as unknown as Record<string, unknown>;
    wrapped.query = (text: string, ...rest: unknown[]) => {
      counter.record(text, false);
      return (query as (...a: unknown[]) => unknown)(text, ...rest);
    };
    wrapped.exec = (text: string, ...rest: unknown[]) => {
      counter.record(text, false);
      return (exec as (...a: unknown[]) => unknown)(text, ...rest);
    };
    wrapped.transaction = <T>(callback: (tx: Transaction) => Promise<T>) => {
      counter.record("begin", false);
      return transaction(async (tx) => {
        const inside = new Proxy(tx, {
          get(target, property, receiver) {
            const value = Reflect.get(target, property, receiver);
            if (property === "query" || property === "exec") {
              return (text: string, ...rest: unknown[]) => {
                counter.record(text, true);
                return (value as (...a: unknown[]) => unknown).call(target, text, ...rest);
              };
            }
            return typeof value === "function" ? value.bind(target) : value;
          },
        });
        const result = await callback(inside);
        counter.record("commit", true);
        return result;
      });
    };
    this.restore = () => {
      wrapped.query = query;
      wrapped.exec = exec;
      wrapped.transaction = transaction;
    };
  }

  stop(): void {
    this.restore?.();
  }
}

function writes(text: string): boolean {
  return (
    /\b(insert|update|delete)\b/i.test(text) ||
    /\bpostern_(start_login|take_login_budgets|give_back_login_budget)\b/i.test(text)
  );
}
