import { type ReactNode, useEffect } from "react";
import { enc } from "./api/client.ts";
import type { Me } from "./api/types.ts";
import { AuthCard } from "./components/auth-card.tsx";
import { Notice } from "./components/feedback.tsx";
import { PageHeader } from "./components/layout.tsx";
import { AppLayout, type AppPageProps } from "./pages/app/app-layout.tsx";
import { DeliveriesPage } from "./pages/app/deliveries.tsx";
import { DeliveryDetailPage } from "./pages/app/delivery-detail.tsx";
import { AppKeysPage } from "./pages/app/keys.tsx";
import { AppOverviewPage } from "./pages/app/overview.tsx";
import { AppSettingsPage } from "./pages/app/settings.tsx";
import { AppsPage } from "./pages/apps.tsx";
import { AuditPage } from "./pages/audit.tsx";
import { CreateWorkspacePage } from "./pages/create-workspace.tsx";
import { DevMailboxPage } from "./pages/dev-mailbox.tsx";
import { EmailProviderPage } from "./pages/email-provider/email-provider-page.tsx";
import { EmailTemplatesPage } from "./pages/email-templates/email-templates-page.tsx";
import { MembersPage } from "./pages/members.tsx";
import { SignInPage } from "./pages/sign-in.tsx";
import { Link, matchPath, navigate, type Params, useLocation } from "./router.tsx";
import { useSession } from "./session.tsx";
import { Brand, Shell } from "./shell.tsx";
import "./app.css";

const LAST_WORKSPACE_KEY = "postern.lastWorkspace";

function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}

/** Only paths inside the app go in `next`: never send someone elsewhere after sign-in. */
function safeNext(next: string | null): string {
  return next?.startsWith("/") && !next.startsWith("//") ? next : "/";
}

export function App() {
  const { state } = useSession();
  const { pathname, searchParams } = useLocation();

  if (state.status === "loading") {
    return (
      <div className="boot" role="status">
        <span className="visually-hidden">Loading Postern…</span>
      </div>
    );
  }
  if (state.status === "unavailable") {
    return (
      <AuthCard>
        <Notice tone="danger" title="Postern is not answering">
          {state.message}
        </Notice>
        <button type="button" className="btn btn-secondary" onClick={() => window.location.reload()}>
          Try again
        </button>
      </AuthCard>
    );
  }
  if (state.status === "signed-out") {
    if (pathname === "/dev/mailbox") {
      return (
        <div className="public-page">
          <header className="public-bar">
            <Brand />
            <Link to="/sign-in">← Back to sign in</Link>
          </header>
          <main className="public-main">
            <DevMailboxPage />
          </main>
        </div>
      );
    }
    if (pathname !== "/sign-in") {
      const here = pathname + (searchParams.size ? `?${searchParams}` : "");
      const keep =
        pathname === "/" ? (searchParams.size ? `/sign-in?${searchParams}` : "/sign-in") : undefined;
      return <Redirect to={keep ?? `/sign-in?next=${encodeURIComponent(here)}`} />;
    }
    return <SignInPage notice={state.notice} />;
  }
  if (pathname === "/sign-in") return <Redirect to={safeNext(searchParams.get("next"))} />;
  return <SignedIn me={state.me} pathname={pathname} />;
}

function SignedIn({ me, pathname }: { me: Me; pathname: string }) {
  const workspaceParam = matchPath("/w/:workspaceId", pathname.split("/").slice(0, 3).join("/"));
  const workspace = me.workspaces.find((w) => w.id === workspaceParam?.workspaceId);

  useEffect(() => {
    if (workspace) localStorage.setItem(LAST_WORKSPACE_KEY, workspace.id);
  }, [workspace]);

  if (pathname === "/") {
    const last = localStorage.getItem(LAST_WORKSPACE_KEY);
    const home = me.workspaces.find((w) => w.id === last) ?? me.workspaces[0];
    return <Redirect to={home ? `/w/${enc(home.id)}` : "/workspaces/new"} />;
  }

  let page: ReactNode;
  if (pathname === "/workspaces/new") page = <CreateWorkspacePage />;
  else if (pathname === "/dev/mailbox") page = me.devMailbox ? <DevMailboxPage /> : <NotFound />;
  else if (workspaceParam && !workspace) page = <NotFound what="workspace" />;
  else if (workspace) page = <WorkspaceRoutes pathname={pathname} workspace={workspace} />;
  else page = <NotFound />;

  const fallback = me.workspaces.find((w) => w.id === localStorage.getItem(LAST_WORKSPACE_KEY));
  return <Shell workspace={workspace ?? fallback ?? me.workspaces[0]}>{page}</Shell>;
}

type AppSection = (params: Params, props: AppPageProps) => ReactNode;

/** The pages of one app, under /w/:workspaceId/apps/:appId. */
const appSections: [string, AppSection][] = [
  ["", (_, props) => <AppOverviewPage {...props} />],
  ["/settings", (_, props) => <AppSettingsPage {...props} />],
  ["/keys", (_, props) => <AppKeysPage {...props} />],
  ["/email-provider", (_, props) => <EmailProviderPage {...props} />],
  ["/login-email", (_, props) => <EmailTemplatesPage {...props} />],
  ["/deliveries", (_, props) => <DeliveriesPage {...props} />],
  [
    "/deliveries/:deliveryId",
    (params, props) => <DeliveryDetailPage {...props} deliveryId={params.deliveryId!} />,
  ],
];

function WorkspaceRoutes({ pathname, workspace }: { pathname: string; workspace: Me["workspaces"][number] }) {
  const ws = "/w/:workspaceId";
  if (matchPath(ws, pathname)) return <AppsPage workspace={workspace} />;
  if (matchPath(`${ws}/members`, pathname)) return <MembersPage workspace={workspace} />;
  if (matchPath(`${ws}/audit`, pathname)) return <AuditPage workspace={workspace} />;

  for (const [section, render] of appSections) {
    const params = matchPath(`${ws}/apps/:appId${section}`, pathname);
    if (params) {
      return (
        <AppLayout key={params.appId} workspace={workspace} appId={params.appId!}>
          {(props) => render(params, props)}
        </AppLayout>
      );
    }
  }
  return <NotFound />;
}

function NotFound({ what = "page" }: { what?: "page" | "workspace" }) {
  return (
    <>
      <PageHeader
        title={what === "workspace" ? "Workspace not found" : "Page not found"}
        description={
          what === "workspace"
            ? "It does not exist, or you are not a member of it. Ask an owner to invite you."
            : "There is nothing at this address."
        }
      />
      <Link to="/" className="btn btn-secondary">
        Go to your apps
      </Link>
    </>
  );
}
