// Shapes shared by the request-data parsers. Every string here is a binary string: one JS char
// per byte (code units 0–255), as `Buffer#toString('latin1')` makes them.

/** One member of a collection such as ARGS_POST or REQUEST_COOKIES: its name and its value. */
export type NameValue = [name: string, value: string];

/** ModSecurity's message when SecArgumentsLimit drops arguments (REQBODY_ERROR_MSG). */
export const ARGUMENTS_LIMIT_EXCEEDED = 'SecArgumentsLimit exceeded';
