import { type ReactNode, useEffect, useRef, useState } from "react";
import { type ApiError, toApiError } from "./api/client.ts";
import type { WorkspaceSummary } from "./api/types.ts";
import { FormError } from "./components/feedback.tsx";
import { WorkspaceSwitcher } from "./components/workspace-switcher.tsx";
import { Link, useLocation } from "./router.tsx";
import { useMe, useSession } from "./session.tsx";
import "./shell.css";

export function Brand() {
  return (
    <span className="brand">
      <svg viewBox="0 0 32 32" className="brand-mark" aria-hidden="true">
        <rect width="32" height="32" rx="8" fill="currentColor" />
        <path
          d="M11 23V9h6.5a5 5 0 0 1 0 10H14"
          stroke="white"
          strokeWidth="3"
          fill="none"
          strokeLinecap="round"
          strokeLinejoin="round"
        />
      </svg>
      <span className="brand-name">Postern</span>
    </span>
  );
}

function NavLink({ to, children, also }: { to: string; children: ReactNode; also?: string }) {
  const { pathname } = useLocation();
  const under = (prefix: string) => pathname === prefix || pathname.startsWith(`${prefix}/`);
  const active = also ? pathname === to || under(also) : under(to);
  return (
    <Link to={to} className="nav-link" aria-current={active ? "page" : undefined}>
      {children}
    </Link>
  );
}

/** The signed-in frame: workspace switcher and navigation beside the page. */
export function Shell({
  workspace,
  children,
}: {
  workspace: WorkspaceSummary | undefined;
  children: ReactNode;
}) {
  const me = useMe();
  const { signOut } = useSession();
  const { pathname } = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);
  const [signingOut, setSigningOut] = useState(false);
  const [signOutError, setSignOutError] = useState<ApiError>();

  const mainRef = useRef<HTMLElement>(null);
  const firstPath = useRef(pathname);
  // A new page closes the small-screen menu and starts keyboard and screen-reader users at its content.
  useEffect(() => {
    setMenuOpen(false);
    if (pathname !== firstPath.current) {
      firstPath.current = pathname;
      // A page that focused its own first field (autoFocus) keeps it.
      if (!mainRef.current?.contains(document.activeElement)) mainRef.current?.focus({ preventScroll: true });
    }
  }, [pathname]);

  const menuButtonRef = useRef<HTMLButtonElement>(null);
  // Esc closes the small-screen menu and gives focus back to the button that opened it.
  useEffect(() => {
    if (!menuOpen) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== "Escape" || event.defaultPrevented) return;
      setMenuOpen(false);
      menuButtonRef.current?.focus();
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [menuOpen]);

  const base = workspace ? `/w/${encodeURIComponent(workspace.id)}` : undefined;
  return (
    <div className="shell">
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/" className="topbar-brand" aria-label="Postern home">
          <Brand />
        </Link>
        <button
          ref={menuButtonRef}
          type="button"
          className="btn btn-ghost btn-sm"
          aria-expanded={menuOpen}
          aria-controls="sidebar"
          onClick={() => setMenuOpen((v) => !v)}
        >
          {menuOpen ? "Close" : "Menu"}
        </button>
      </header>
      <aside id="sidebar" className={`sidebar${menuOpen ? " sidebar-open" : ""}`}>
        <Link to="/" className="sidebar-brand" aria-label="Postern home">
          <Brand />
        </Link>
        <WorkspaceSwitcher workspaces={me.workspaces} current={workspace} />
        <nav aria-label="Workspace" className="nav">
          {base && (
            <>
              <NavLink to={base} also={`${base}/apps`}>
                Apps
              </NavLink>
              <NavLink to={`${base}/members`}>Members &amp; plan</NavLink>
              <NavLink to={`${base}/audit`}>Audit log</NavLink>
            </>
          )}
          {me.devMailbox && <NavLink to="/dev/mailbox">Dev mailbox</NavLink>}
          {/* Served by the API process, outside the single-page app: a plain link. */}
          <a href="/docs" className="nav-link">
            API reference
          </a>
        </nav>
        <div className="sidebar-footer">
          <div className="sidebar-account">
            <span className="sidebar-account-label">Signed in as</span>
            <span className="sidebar-account-email">{me.account.email}</span>
          </div>
          <button
            type="button"
            className="btn btn-secondary btn-sm btn-block"
            disabled={signingOut}
            onClick={() => {
              setSigningOut(true);
              setSignOutError(undefined);
              signOut().catch((err: unknown) => {
                setSignOutError(toApiError(err));
                setSigningOut(false);
              });
            }}
          >
            {signingOut ? "Signing out…" : "Sign out"}
          </button>
          {signOutError && <FormError error={signOutError} />}
        </div>
      </aside>
      <main id="main" className="main" tabIndex={-1} ref={mainRef}>
        <div className="main-inner">{children}</div>
      </main>
    </div>
  );
}
