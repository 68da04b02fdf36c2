import { type AnchorHTMLAttributes, type MouseEvent, useCallback, useSyncExternalStore } from "react";

/** A tiny History API router: one location store, path patterns like `/w/:workspaceId/apps`. */

const listeners = new Set<() => void>();

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  window.addEventListener("popstate", listener);
  return () => {
    listeners.delete(listener);
    window.removeEventListener("popstate", listener);
  };
}

const snapshot = () => window.location.pathname + window.location.search;

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to === snapshot()) return;
  if (options.replace) window.history.replaceState(null, "", to);
  else window.history.pushState(null, "", to);
  window.scrollTo(0, 0);
  for (const listener of listeners) listener();
}

export interface Location {
  pathname: string;
  searchParams: URLSearchParams;
}

export function useLocation(): Location {
  const current = useSyncExternalStore(subscribe, snapshot);
  const url = new URL(current, window.location.origin);
  return { pathname: url.pathname, searchParams: url.searchParams };
}

export type Params = Record<string, string>;

/** Matches `/w/:workspaceId` against `/w/ws_1`; the whole path must match. */
export function matchPath(pattern: string, pathname: string): Params | undefined {
  const want = pattern.split("/").filter(Boolean);
  const got = pathname.split("/").filter(Boolean);
  if (want.length !== got.length) return undefined;
  const params: Params = {};
  for (const [i, part] of want.entries()) {
    const segment = got[i]!;
    if (part.startsWith(":")) params[part.slice(1)] = decodeURIComponent(segment);
    else if (part !== segment) return undefined;
  }
  return params;
}

type LinkProps = AnchorHTMLAttributes<HTMLAnchorElement> & { to: string };

/** An ordinary link (works with middle-click and "open in new tab") that navigates in-app on a plain click. */
export function Link({ to, onClick, children, ...rest }: LinkProps) {
  const handleClick = useCallback(
    (event: MouseEvent<HTMLAnchorElement>) => {
      onClick?.(event);
      if (
        event.defaultPrevented ||
        event.button !== 0 ||
        event.metaKey ||
        event.ctrlKey ||
        event.shiftKey ||
        event.altKey ||
        rest.target === "_blank"
      ) {
        return;
      }
      event.preventDefault();
      navigate(to);
    },
    [onClick, to, rest.target],
  );
  return (
    <a href={to} onClick={handleClick} {...rest}>
      {children}
    </a>
  );
}
