/**
 * A sign-in waiting for its code. This tab keeps it in sessionStorage (a trip to the dev mailbox keeps
 * the code step); the browser keeps the newest one in localStorage too, so another tab can offer
 * "I already have a code". Only the login id is kept, never the code: the code from the email is still
 * needed, and the server's per-login try limit still holds.
 */
export interface PendingLogin {
  email: string;
  loginId: string;
  expiresAt: string;
}

const KEY = "postern.pendingLogin";

function read(storage: Storage): PendingLogin | undefined {
  try {
    const raw = storage.getItem(KEY);
    const pending = raw ? (JSON.parse(raw) as PendingLogin) : undefined;
    return pending && new Date(pending.expiresAt).getTime() > Date.now() ? pending : undefined;
  } catch {
    return undefined;
  }
}

/** This tab's pending sign-in. */
export function readPendingLogin(): PendingLogin | undefined {
  return read(sessionStorage);
}

/** The newest pending sign-in of this browser, asked for in any tab. */
export function readBrowserPendingLogin(): PendingLogin | undefined {
  return read(localStorage);
}

/** Remembers the login waiting for its code, or forgets it (signed in, or another email chosen). */
export function writePendingLogin(pending: PendingLogin | undefined): void {
  for (const storage of [sessionStorage, localStorage]) {
    if (pending) storage.setItem(KEY, JSON.stringify(pending));
    else storage.removeItem(KEY);
  }
}

/** Codes as people paste them (" 957896", "957-896", "957 896"): the digits, at most six. */
export function codeDigits(typed: string): string {
  return typed.replace(/\D/g, "").slice(0, 6);
}
