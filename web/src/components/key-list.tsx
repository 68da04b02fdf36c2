import type { ReactNode } from "react";
import { CopyField } from "./copy-button.tsx";
import "./key-list.css";

/** Labelled values (keys, IDs, URLs), each label beside its value; stacked on a phone. */
export function KeyList({ children }: { children: ReactNode }) {
  return <dl className="key-list">{children}</dl>;
}

export function KeyRow({ label, children }: { label: ReactNode; children: ReactNode }) {
  return (
    <div className="key-row">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

/** A row whose value has a copy button; `describe` names the value for screen readers. */
export function CopyRow({
  label,
  value,
  describe,
  children,
}: {
  label: ReactNode;
  value: string;
  describe: string;
  /** Said under the value, such as where it is safe to use. */
  children?: ReactNode;
}) {
  return (
    <KeyRow label={label}>
      <CopyField value={value} describe={describe} />
      {children}
    </KeyRow>
  );
}
