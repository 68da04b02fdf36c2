import { useEffect, useId, useRef, useState } from "react";
import type { WorkspaceSummary } from "../api/types.ts";
import { Link } from "../router.tsx";

/** The current workspace, and a menu to open another or create one. */
export function WorkspaceSwitcher({
  workspaces,
  current,
}: {
  workspaces: WorkspaceSummary[];
  current: WorkspaceSummary | undefined;
}) {
  const [open, setOpen] = useState(false);
  const rootRef = useRef<HTMLDivElement>(null);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const menuId = useId();

  useEffect(() => {
    if (!open) return;
    const onPointer = (event: PointerEvent) => {
      if (!rootRef.current?.contains(event.target as Node)) setOpen(false);
    };
    const onKey = (event: KeyboardEvent) => {
      if (event.key === "Escape") {
        setOpen(false);
        buttonRef.current?.focus();
      }
    };
    document.addEventListener("pointerdown", onPointer);
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("pointerdown", onPointer);
      document.removeEventListener("keydown", onKey);
    };
  }, [open]);

  return (
    <div className="switcher" ref={rootRef}>
      <button
        ref={buttonRef}
        type="button"
        className="switcher-button"
        aria-expanded={open}
        aria-controls={menuId}
        onClick={() => setOpen((v) => !v)}
      >
        <span className="switcher-avatar" aria-hidden="true">
          {(current?.name ?? "?").slice(0, 1).toUpperCase()}
        </span>
        <span className="switcher-text">
          <span className="switcher-label">Workspace</span>
          <span className="switcher-name">{current?.name ?? "Choose a workspace"}</span>
        </span>
        <svg className="switcher-chevron" viewBox="0 0 16 16" aria-hidden="true">
          <path d="M4 6l4 4 4-4" fill="none" stroke="currentColor" strokeWidth="1.5" />
        </svg>
      </button>
      {open && (
        <div className="switcher-menu" id={menuId}>
          <div className="switcher-menu-heading">Your workspaces</div>
          <ul>
            {workspaces.map((w) => (
              <li key={w.id}>
                <Link
                  to={`/w/${encodeURIComponent(w.id)}`}
                  className="switcher-item"
                  aria-current={w.id === current?.id ? "true" : undefined}
                  onClick={() => setOpen(false)}
                >
                  <span className="switcher-item-name">{w.name}</span>
                  <span className="switcher-item-role">{w.role}</span>
                </Link>
              </li>
            ))}
          </ul>
          <Link to="/workspaces/new" className="switcher-item switcher-create" onClick={() => setOpen(false)}>
            + Create workspace
          </Link>
        </div>
      )}
    </div>
  );
}
