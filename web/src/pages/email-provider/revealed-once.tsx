import { Notice } from "../../components/feedback.tsx";
import { CopyRow, KeyList } from "../../components/key-list.tsx";

/** "signingSecret" → "Signing secret". */
const labelOf = (name: string) => {
  const words = name.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
};

/**
 * The one moment a value a kind created on save is visible (e.g. a webhook's signing secret): Postern
 * keeps it sealed and never shows it again.
 */
export function RevealedOnce({ values, onDone }: { values: Record<string, string>; onDone(): void }) {
  const entries = Object.entries(values);
  return (
    <section className="secret-reveal" aria-label="Shown only once">
      <Notice
        tone="warning"
        title={`Copy ${entries.length === 1 ? "this value" : "these values"} now: shown only once`}
      >
        Postern keeps {entries.length === 1 ? "it" : "them"} sealed and cannot show{" "}
        {entries.length === 1 ? "it" : "them"} again. Store it where your receiving endpoint reads its
        configuration (an environment variable or a secrets manager).
      </Notice>
      <KeyList>
        {entries.map(([name, value]) => (
          <CopyRow key={name} label={labelOf(name)} value={value} describe={labelOf(name).toLowerCase()} />
        ))}
      </KeyList>
      <div className="form-actions">
        <button type="button" className="btn btn-primary" onClick={onDone}>
          I have copied it
        </button>
      </div>
    </section>
  );
}
