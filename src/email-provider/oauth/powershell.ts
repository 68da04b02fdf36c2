/** A PowerShell single-quoted string: nothing inside is expanded, and a quote is written twice. */
export const psQuote = (value: string): string => `'${value.replace(/'/g, "''")}'`;
