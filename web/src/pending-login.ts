/** A sign-in waiting for its code, kept for the tab's lifetime (a trip to the dev mailbox keeps it). */
export interface PendingLogin {
  email: string;
  loginId: string;
  expiresAt: string;
}

const KEY = "postern.pendingLogin";

export function readPendingLogin(): PendingLogin | undefined {
  try {
    const raw = sessionStorage.getItem(KEY);
    const pending = raw ? (JSON.parse(raw) as PendingLogin) : undefined;
    return pending && new Date(pending.expiresAt).getTime() > Date.now() ? pending : undefined;
  } catch {
    return undefined;
  }
}

/** Remembers the login waiting for its code, or forgets it (signed in by code or by link). */
export function writePendingLogin(pending: PendingLogin | undefined): void {
  if (pending) sessionStorage.setItem(KEY, JSON.stringify(pending));
  else sessionStorage.removeItem(KEY);
}
