import { type ReactNode, useCallback, useEffect, useRef } from "react";
import { api, enc } from "../../api/client.ts";
import type { App, WorkspaceSummary } from "../../api/types.ts";
import { ErrorNotice, Loading } from "../../components/feedback.tsx";
import { PageHeader } from "../../components/layout.tsx";
import { Link, useLocation } from "../../router.tsx";
import { useResource } from "../../use-resource.ts";
import "./app-layout.css";

export interface AppPageProps {
  workspace: WorkspaceSummary;
  app: App;
  /** The page saved the app and got its new state back. */
  onAppChange(app: App): void;
}

/** A form on the app's settings page: it saves the app, or only shows it to a member. */
export interface AppFormProps {
  app: App;
  onAppChange(app: App): void;
  disabled: boolean;
}

const sections = [
  { path: "", label: "Overview" },
  { path: "/settings", label: "Settings" },
  { path: "/keys", label: "API keys" },
  { path: "/email-provider", label: "Email provider" },
  { path: "/login-email", label: "Login email" },
  { path: "/deliveries", label: "Delivery log" },
];

/** One app: its header and section tabs around the section's page. */
export function AppLayout({
  workspace,
  appId,
  children,
}: {
  workspace: WorkspaceSummary;
  appId: string;
  children(props: AppPageProps): ReactNode;
}) {
  const { pathname } = useLocation();
  const app = useResource(`app:${appId}`, () => api.get("/api/apps/{appId}", { path: { appId } }));
  const base = `/w/${enc(workspace.id)}/apps/${enc(appId)}`;

  if (app.loading && !app.data) return <Loading label="Loading the app…" />;
  if (!app.data) {
    return (
      <>
        <PageHeader title="App not found" />
        {app.error && <ErrorNotice error={app.error} onRetry={() => void app.reload()} />}
        <p>
          <Link to={`/w/${enc(workspace.id)}`}>Back to apps</Link>
        </p>
      </>
    );
  }

  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link to={`/w/${enc(workspace.id)}`}>Apps</Link>
        <span aria-hidden="true">/</span>
        <span aria-current="page">{app.data.name}</span>
      </nav>
      <PageHeader title={app.data.name} description={<code className="muted-code">{app.data.id}</code>} />
      <SectionTabs activeKey={pathname}>
        {sections.map((section) => {
          const to = `${base}${section.path}`;
          const active = section.path === "" ? pathname === base : pathname.startsWith(to);
          return (
            <Link
              key={section.path}
              to={to}
              className="section-tab"
              aria-current={active ? "page" : undefined}
            >
              {section.label}
            </Link>
          );
        })}
      </SectionTabs>
      <div className="section-body">{children({ workspace, app: app.data, onAppChange: app.set })}</div>
    </>
  );
}

/**
 * The sections in one row that scrolls sideways when it does not fit: a fade marks the side with
 * more tabs, and the current tab is scrolled into view whenever it changes.
 */
function SectionTabs({ activeKey, children }: { activeKey: string; children: ReactNode }) {
  const frame = useRef<HTMLDivElement>(null);
  const nav = useRef<HTMLElement>(null);

  const updateCues = useCallback(() => {
    const list = nav.current;
    const box = frame.current;
    if (!list || !box) return;
    box.toggleAttribute("data-more-before", list.scrollLeft > 1);
    box.toggleAttribute("data-more-after", list.scrollLeft + list.clientWidth < list.scrollWidth - 1);
  }, []);

  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when the page changes; the active tab is read from the DOM.
  useEffect(() => {
    const list = nav.current;
    const active = list?.querySelector<HTMLElement>('[aria-current="page"]');
    if (list && active) {
      const start = active.offsetLeft - list.offsetLeft;
      if (start < list.scrollLeft || start + active.offsetWidth > list.scrollLeft + list.clientWidth)
        list.scrollLeft = start - (list.clientWidth - active.offsetWidth) / 2;
    }
    updateCues();
  }, [activeKey, updateCues]);

  useEffect(() => {
    const list = nav.current;
    if (!list) return;
    const observer = new ResizeObserver(updateCues);
    observer.observe(list);
    return () => observer.disconnect();
  }, [updateCues]);

  return (
    <div className="section-tabs-frame" ref={frame}>
      <nav aria-label="App sections" className="section-tabs" ref={nav} onScroll={updateCues}>
        {children}
      </nav>
    </div>
  );
}
