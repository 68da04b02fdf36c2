import { useEffect, useMemo, useRef, useState } from "react";

/**
 * Unsaved form edits survive a session expiry: when the session ends, every dirty field of the
 * mounted forms is written to sessionStorage (this tab only, gone when it closes), keyed by page and
 * field, and the same page restores it after the person signs in again. Never used for secrets.
 */
const PREFIX = "postern.draft:";
const drafts = new Map<string, unknown>();
/** Whose drafts these are: another account signing in on this tab does not get them. */
let owner: string | undefined;

export function setDraftOwner(accountId: string | undefined): void {
  owner = accountId;
}

const keyOf = (field: string) => `${PREFIX}${window.location.pathname}:${field}`;

/** Called by the session when it expires, before the sign-in page replaces the form. */
export function keepDrafts(): void {
  for (const [key, value] of drafts) sessionStorage.setItem(key, JSON.stringify({ owner, value }));
}

/** Whether a draft is kept for `field` of this page (for this account), without taking it. */
export function hasDraft(field: string): boolean {
  const stored = sessionStorage.getItem(keyOf(field));
  if (stored === null) return false;
  try {
    return (JSON.parse(stored) as { owner?: string }).owner === owner;
  } catch {
    return false;
  }
}

/** The draft kept for `field` of this page, if any; taking it removes it. */
export function takeDraft<T>(field: string): T | undefined {
  const key = keyOf(field);
  const stored = sessionStorage.getItem(key);
  if (stored === null) return undefined;
  sessionStorage.removeItem(key);
  try {
    const draft = JSON.parse(stored) as { owner?: string; value: T };
    return draft.owner === owner ? draft.value : undefined;
  } catch {
    return undefined;
  }
}

/** Registers `value` as the unsaved edit of `field` while `dirty`, for keepDrafts. */
export function useKeepOnExpiry(field: string, value: unknown, dirty: boolean): void {
  // The field may change while mounted (a provider added is its id from then on); the page does not.
  const key = useMemo(() => keyOf(field), [field]);
  useEffect(() => {
    if (dirty) drafts.set(key, value);
    else drafts.delete(key);
  }, [key, value, dirty]);
  useEffect(() => () => void drafts.delete(key), [key]);
}

/**
 * useState for a form field whose edits are kept across a re-sign-in. `restored` says the value came
 * from a draft; `clear` (after a save) makes the field clean again.
 */
export function useDraftState<T>(field: string, initial: T) {
  const [restoredValue] = useState(() => takeDraft<T>(field));
  const [value, setValue] = useState<T>(restoredValue ?? initial);
  const [restored, setRestored] = useState(restoredValue !== undefined);
  const clean = useRef(JSON.stringify(initial));
  useKeepOnExpiry(field, value, JSON.stringify(value) !== clean.current);

  const clear = (savedValue: T) => {
    clean.current = JSON.stringify(savedValue);
    setValue(savedValue);
    setRestored(false);
  };
  return { value, setValue, restored, clear };
}
