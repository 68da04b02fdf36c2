import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from "react";
import { ApiError, api, setCsrfToken, setSessionExpiredListener, toApiError } from "./api/client.ts";
import { type Account, asMe, type Me } from "./api/types.ts";
import { keepDrafts, setDraftOwner } from "./drafts.ts";
import { writePendingLogin } from "./pending-login.ts";
import { navigate } from "./router.tsx";

export type SessionState =
  | { status: "loading" }
  | { status: "signed-out"; notice?: string }
  | { status: "signed-in"; me: Me }
  | { status: "unavailable"; message: string };

interface SessionApi {
  state: SessionState;
  /** After the code is verified: the cookie is set, load the account and its workspaces. */
  completeSignIn(verified: { csrfToken: string; account: Account }): Promise<void>;
  signOut(): Promise<void>;
  /** Reload the account's workspaces (after creating one, or when features change). */
  refresh(): Promise<void>;
}

const SessionContext = createContext<SessionApi | undefined>(undefined);

const SESSION_EXPIRED_NOTICE = "Your session expired. Sign in again to pick up where you left off.";

async function loadMe(): Promise<Me> {
  return asMe(await api.get("/api/me", { quietUnauthorized: true }));
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<SessionState>({ status: "loading" });

  const load = useCallback(async () => {
    try {
      // Asking first spares a signed-out visitor a 401 (and the browser's console error for it).
      const session = await api.get("/api/session");
      if (!session.signedIn) {
        setCsrfToken(undefined);
        setState((current) => (current.status === "signed-out" ? current : { status: "signed-out" }));
        return;
      }
      const me = await loadMe();
      // Signed in, by code or by link: a code still awaited in this tab is moot.
      writePendingLogin(undefined);
      setCsrfToken(me.csrfToken);
      setDraftOwner(me.account.id);
      setState({ status: "signed-in", me });
    } catch (err) {
      setCsrfToken(undefined);
      if (err instanceof ApiError && err.status === 401) setState({ status: "signed-out" });
      else setState({ status: "unavailable", message: toApiError(err).message });
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  useEffect(() => {
    setSessionExpiredListener(() => {
      keepDrafts();
      setCsrfToken(undefined);
      setState({ status: "signed-out", notice: SESSION_EXPIRED_NOTICE });
      const here = window.location.pathname + window.location.search;
      if (!here.startsWith("/sign-in"))
        navigate(`/sign-in?next=${encodeURIComponent(here)}`, { replace: true });
    });
    return () => setSessionExpiredListener(undefined);
  }, []);

  const value = useMemo<SessionApi>(
    () => ({
      state,
      async completeSignIn(verified) {
        setCsrfToken(verified.csrfToken);
        await load();
      },
      async signOut() {
        try {
          await api.post("/api/auth/logout");
        } catch (err) {
          // Already signed out on the server: the outcome the user asked for.
          if (!(err instanceof ApiError && err.status === 401)) throw err;
        }
        setCsrfToken(undefined);
        setState({ status: "signed-out", notice: "You have signed out." });
        navigate("/sign-in", { replace: true });
      },
      refresh: load,
    }),
    [state, load],
  );

  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionApi {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside SessionProvider");
  return session;
}

/** The signed-in account; only for pages rendered inside the signed-in shell. */
export function useMe(): Me {
  const { state } = useSession();
  if (state.status !== "signed-in") throw new Error("useMe needs a signed-in session");
  return state.me;
}
