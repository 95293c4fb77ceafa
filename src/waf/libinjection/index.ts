// libinjection's SQLi and XSS detectors (ModSecurity's @detectSQLi / @detectXSS), reimplemented
// from ../shared/libinjection/ALGORITHM.md. Inputs are binary strings: one char per byte, code
// units 0–255, as Buffer#toString('latin1') produces.
export { detectSqli, type SqliResult } from './sqli.ts';
export { detectXss } from './xss.ts';
