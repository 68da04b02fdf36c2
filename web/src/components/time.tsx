/**
 * The dashboard's one way to show a time: in the reader's locale and time zone (Intl), never as the
 * API's ISO string. Every timestamp on screen goes through <Time> or these functions.
 */
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

export function formatDateTime(iso: string): string {
  return dateTime.format(new Date(iso));
}

export function formatRelative(iso: string, now = Date.now()): string {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 45) return relative.format(seconds, "second");
  if (abs < 45 * 60) return relative.format(Math.round(seconds / 60), "minute");
  if (abs < 22 * 3600) return relative.format(Math.round(seconds / 3600), "hour");
  return relative.format(Math.round(seconds / 86400), "day");
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/**
 * A timestamp, with the exact time on hover and for machines. `relative` ("2 minutes ago") suits
 * lists; `absolute` suits records; `both` suits deadlines, where "in 5 minutes" is what matters.
 */
export function Time({
  iso,
  format = "relative",
}: {
  iso: string;
  format?: "relative" | "absolute" | "both";
}) {
  const text =
    format === "relative"
      ? formatRelative(iso)
      : format === "absolute"
        ? formatDateTime(iso)
        : `${formatDateTime(iso)} (${formatRelative(iso)})`;
  return (
    <time dateTime={iso} title={formatDateTime(iso)}>
      {text}
    </time>
  );
}
