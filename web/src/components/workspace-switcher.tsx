import { type KeyboardEvent as ReactKeyboardEvent, useEffect, useId, useRef, useState } from "react";
import type { WorkspaceSummary } from "../api/types.ts";
import { Link } from "../router.tsx";
import "./workspace-switcher.css";

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
  const menuRef = useRef<HTMLDivElement>(null);
  // Opened from the keyboard with an arrow key, the menu starts at its first (or last) entry.
  const [focusOnOpen, setFocusOnOpen] = useState<"first" | "last" | undefined>();

  const items = () => Array.from(menuRef.current?.querySelectorAll<HTMLElement>(".switcher-item") ?? []);
  const focusItem = (which: "first" | "last" | "next" | "previous") => {
    const all = items();
    const at = all.indexOf(document.activeElement as HTMLElement);
    const index =
      which === "first"
        ? 0
        : which === "last"
          ? all.length - 1
          : which === "next"
            ? (at + 1) % all.length
            : (at - 1 + all.length) % all.length;
    all[index]?.focus();
  };

  useEffect(() => {
    if (open && focusOnOpen) {
      focusItem(focusOnOpen);
      setFocusOnOpen(undefined);
    }
  });

  const onButtonKey = (event: ReactKeyboardEvent) => {
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    event.preventDefault();
    setOpen(true);
    setFocusOnOpen(event.key === "ArrowDown" ? "first" : "last");
  };
  const onMenuKey = (event: ReactKeyboardEvent) => {
    const moves: Record<string, "first" | "last" | "next" | "previous"> = {
      ArrowDown: "next",
      ArrowUp: "previous",
      Home: "first",
      End: "last",
    };
    const move = moves[event.key];
    if (!move) return;
    event.preventDefault();
    focusItem(move);
  };

  useEffect(() => {
    if (!open) return;
    const onPointer = (event: PointerEvent) => {
      if (!rootRef.current?.contains(event.target as Node)) setOpen(false);
    };
    const onKey = (event: KeyboardEvent) => {
      if (event.key === "Escape") {
        // Handled here only: the small-screen menu around the switcher stays open.
        event.preventDefault();
        setOpen(false);
        buttonRef.current?.focus();
      }
    };
    // Tabbing past the menu closes it, as a click elsewhere does.
    const onFocus = (event: FocusEvent) => {
      if (!rootRef.current?.contains(event.target as Node)) setOpen(false);
    };
    document.addEventListener("pointerdown", onPointer);
    // Capture, so this runs before the small-screen menu's own Esc handler.
    document.addEventListener("keydown", onKey, true);
    document.addEventListener("focusin", onFocus);
    return () => {
      document.removeEventListener("pointerdown", onPointer);
      document.removeEventListener("keydown", onKey, true);
      document.removeEventListener("focusin", onFocus);
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
        onKeyDown={onButtonKey}
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
        <div className="switcher-menu" id={menuId} ref={menuRef}>
          <div className="switcher-menu-heading">Your workspaces</div>
          <ul>
            {workspaces.map((w) => (
              <li key={w.id}>
                <Link
                  to={`/w/${encodeURIComponent(w.id)}`}
                  className="switcher-item"
                  aria-current={w.id === current?.id ? "true" : undefined}
                  onClick={() => setOpen(false)}
                  onKeyDown={onMenuKey}
                >
                  <span className="switcher-item-name">{w.name}</span>
                  <span className="switcher-item-role">{w.role}</span>
                </Link>
              </li>
            ))}
          </ul>
          <Link
            to="/workspaces/new"
            className="switcher-item switcher-create"
            onClick={() => setOpen(false)}
            onKeyDown={onMenuKey}
          >
            + Create workspace
          </Link>
        </div>
      )}
    </div>
  );
}
