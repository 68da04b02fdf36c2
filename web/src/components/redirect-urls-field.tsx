import { useId } from "react";
import "./redirect-urls-field.css";

/**
 * The app's allowed redirect URLs, one input each, so an error for `redirectUrls.2`
 * appears under the third URL.
 */
export function RedirectUrlsField({
  value,
  onChange,
  errors,
  disabled,
}: {
  value: string[];
  onChange(next: string[]): void;
  errors: Record<string, string>;
  disabled?: boolean;
}) {
  const id = useId();
  const listError = errors.redirectUrls;
  return (
    <fieldset className="field fieldset-plain" disabled={disabled} aria-describedby={`${id}-hint`}>
      <legend className="field-label">
        Redirect URLs <span className="field-optional">(optional)</span>
      </legend>
      <div className="field-hint" id={`${id}-hint`}>
        Where a magic link may send the user back, matched exactly. Use https; http is allowed for localhost.
      </div>
      <ul className="url-list">
        {value.map((url, i) => {
          const error = errors[`redirectUrls.${i}`];
          const inputId = `${id}-${i}`;
          return (
            // biome-ignore lint/suspicious/noArrayIndexKey: rows are positions; their error paths are indexes too.
            <li key={i} className={`url-row${error ? " field-invalid" : ""}`}>
              <div className="url-row-input">
                <label className="visually-hidden" htmlFor={inputId}>
                  Redirect URL {i + 1}
                </label>
                <input
                  id={inputId}
                  className="input"
                  type="url"
                  inputMode="url"
                  placeholder="https://app.example.com/auth/callback"
                  value={url}
                  aria-invalid={error ? true : undefined}
                  aria-describedby={`${inputId}-error`}
                  onChange={(e) => onChange(value.map((u, j) => (j === i ? e.target.value : u)))}
                />
                <button
                  type="button"
                  className="btn btn-ghost btn-sm"
                  aria-label={`Remove redirect URL ${i + 1}`}
                  onClick={() => onChange(value.filter((_, j) => j !== i))}
                >
                  Remove
                </button>
              </div>
              <div className="field-error" id={`${inputId}-error`} role={error ? "alert" : undefined}>
                {error ?? ""}
              </div>
            </li>
          );
        })}
      </ul>
      <button type="button" className="btn btn-secondary btn-sm" onClick={() => onChange([...value, ""])}>
        Add redirect URL
      </button>
      <div className="field-error" role={listError ? "alert" : undefined}>
        {listError ?? ""}
      </div>
    </fieldset>
  );
}

/** Blank rows are the user's scratch space, not URLs to save. */
export const cleanUrls = (urls: string[]) => urls.map((u) => u.trim()).filter(Boolean);
