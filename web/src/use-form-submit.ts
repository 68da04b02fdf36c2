import { type FormEvent, type RefObject, useEffect, useRef, useState } from "react";
import { type ApiError, toApiError } from "./api/client.ts";

export interface FormSubmit {
  busy: boolean;
  /** The last failure of any kind: the server's problem, no network, or a bug in the dashboard. */
  error: ApiError | undefined;
  /** Field errors by dotted path: the dashboard's own checks and the server's `errors[]` together. */
  fieldErrors: Record<string, string>;
  saved: boolean;
  /** Whether some error has no field of its own to sit under (show it beside the submit button). */
  formLevelError: ApiError | undefined;
  onSubmit(event?: FormEvent): Promise<void>;
  /** An edit after a save: the "Saved" note no longer describes the form. */
  edited(): void;
  formRef: RefObject<HTMLFormElement | null>;
}

/**
 * One way to submit a dashboard form: check the fields locally, send, and show every error at once
 * with focus on the first invalid field, whatever failed. `check` returns the local errors (required
 * fields), `send` calls the API; `onDone` gets its result.
 */
export function useFormSubmit<T>({
  check,
  send,
  onDone,
  inlineFields = [],
}: {
  check?: () => Record<string, string | undefined>;
  send: () => Promise<T>;
  onDone?: (result: T) => void;
  /** Fields (or path prefixes such as `redirectUrls`) this form shows under their inputs. */
  inlineFields?: string[];
}): FormSubmit {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const [localErrors, setLocalErrors] = useState<Record<string, string>>({});
  const [saved, setSaved] = useState(false);
  const [attempt, setAttempt] = useState(0);
  const formRef = useRef<HTMLFormElement>(null);

  // After each failed attempt has rendered its errors, take the keyboard to the first one.
  useEffect(() => {
    if (attempt === 0) return;
    formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [attempt]);

  const onSubmit = async (event?: FormEvent) => {
    event?.preventDefault();
    setSaved(false);
    setError(undefined);
    const local = Object.fromEntries(
      Object.entries(check?.() ?? {}).filter((entry): entry is [string, string] => entry[1] !== undefined),
    );
    setLocalErrors(local);
    if (Object.keys(local).length > 0) {
      setAttempt((n) => n + 1);
      return;
    }
    setBusy(true);
    try {
      const result = await send();
      setSaved(true);
      onDone?.(result);
    } catch (err) {
      setError(toApiError(err));
      setAttempt((n) => n + 1);
    } finally {
      setBusy(false);
    }
  };

  const fieldErrors = { ...(error?.fieldErrors() ?? {}), ...localErrors };
  const inline = (field: string) =>
    inlineFields.some((f) => field === f || field.startsWith(`${f}.`) || field.startsWith(`${f}[`));
  const shownInline = Object.keys(fieldErrors).some(inline);
  return {
    busy,
    error,
    fieldErrors,
    saved,
    formLevelError: shownInline ? undefined : error,
    onSubmit,
    edited: () => setSaved(false),
    formRef,
  };
}
