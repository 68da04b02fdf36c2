/**
 * A login code as people paste it: " 957896", "957-896", "957 896" (mail apps and password managers
 * add spaces; some people group the digits). Spaces and dashes are dropped before the 6 digits are
 * checked, everywhere a code is accepted, so a paste never loses a digit or counts as a wrong try.
 */
export function normalizeCode(typed: string): string {
  return typed.replace(/[\s\u00a0\u2010-\u2015-]/g, "");
}

/** Six digits once spaces and dashes are dropped: what the code fields' schemas accept. */
export const LOGIN_CODE_PATTERN = /^[\s\u00a0\u2010-\u2015-]*(?:\d[\s\u00a0\u2010-\u2015-]*){6}$/;
