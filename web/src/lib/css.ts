/** A CSS custom property's value (canvas drawing cannot use `var(--x)` itself). */
export function cssVar(name: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}
